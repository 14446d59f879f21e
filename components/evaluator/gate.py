"""The gate's rules as sentences with their numbers: absolute accuracy, no regression, no leaks.

No-regression rule (default): the candidate is refused only when, on the same test
examples, it is worse than the baseline by more than --max-accuracy-drop AND the drop is
not noise: among the examples the two models disagree on (b = only the baseline right,
c = only the candidate right), McNemar's exact one-sided test gives
p = P(Binomial(b + c, 1/2) >= b) < ALPHA. So on 100 test images one or two photos are
noise, while a consistent drop is caught; a larger test set detects smaller drops.
"""

from __future__ import annotations

from typing import List, Optional

from contract import MODEL_EXTRA_DIR, VOCABULARY_FILE, class_list_difference
from contract.evaluation import ACCURACY, CheckState, GateCheck, mcnemar_p_value

ALPHA = 0.05  # one-sided significance of the McNemar test


def _examples(count: Optional[int], split: str) -> str:
    return f"{count} {split} examples" if count is not None else f"the {split} split"


def min_accuracy_check(accuracy: Optional[float], min_accuracy: float, count: Optional[int],
                       split: str, slice_name: str = "overall") -> GateCheck:
    if accuracy is None:
        return GateCheck(name="min_accuracy", state=CheckState.FAILED,
                         sentence=f"{split} accuracy was not computed, so it cannot reach the minimum "
                                  f"{min_accuracy:.4f} (--min-accuracy)",
                         slice=slice_name, threshold=min_accuracy)
    passed = accuracy >= min_accuracy
    relation = "is at least" if passed else "is below"
    return GateCheck(
        name="min_accuracy", state=CheckState.PASSED if passed else CheckState.FAILED,
        sentence=f"{split} accuracy {accuracy:.4f} on {_examples(count, split)} ({slice_name} slice) {relation} "
                 f"the minimum {min_accuracy:.4f} (--min-accuracy)",
        slice=slice_name, value=accuracy, threshold=min_accuracy)


def skipped_regression_check(reason: str, max_accuracy_drop: float) -> GateCheck:
    return GateCheck(name="no_regression", state=CheckState.SKIPPED, sentence=f"no-regression check skipped: {reason}",
                     threshold=max_accuracy_drop)


def uncomputed_regression_check(max_accuracy_drop: float) -> GateCheck:
    """Fails closed: without TFMA's paired counts the candidate cannot be shown not to regress."""
    return GateCheck(name="no_regression", state=CheckState.FAILED,
                     sentence="no-regression check could not be computed: TFMA gave no paired counts or accuracy "
                              "for both models", threshold=max_accuracy_drop)


def regression_check(candidate: float, baseline: float, candidate_only: int, baseline_only: int,
                     count: int, max_accuracy_drop: float, split: str, alpha: float = ALPHA) -> GateCheck:
    drop = baseline - candidate
    p = mcnemar_p_value(baseline_only, candidate_only)
    numbers = {"candidate_accuracy": candidate, "baseline_accuracy": baseline, "drop": drop,
               "baseline_only_correct": baseline_only, "candidate_only_correct": candidate_only,
               "example_count": count, "p_value": p, "alpha": alpha, "max_accuracy_drop": max_accuracy_drop}
    head = (f"{split} accuracy {candidate:.4f} vs baseline {baseline:.4f} on the same {count} {split} examples "
            f"(overall slice)")
    disagreement = (f"of the {baseline_only + candidate_only} examples the models disagree on, the baseline is right "
                    f"on {baseline_only} and the candidate on {candidate_only} (McNemar one-sided p = {p:.4f}")
    if drop <= max_accuracy_drop + 1e-12:
        verdict, passed = f"a drop of {max(drop, 0.0):.4f}, within the allowed {max_accuracy_drop:.4f} " \
                          f"(--max-accuracy-drop)", True
    elif p >= alpha:
        verdict, passed = f"a drop of {drop:.4f} that is within noise: {disagreement} >= {alpha})", True
    else:
        verdict, passed = (f"a drop of {drop:.4f}, more than the allowed {max_accuracy_drop:.4f} "
                           f"(--max-accuracy-drop) and not noise: {disagreement} < {alpha})", False)
    return GateCheck(name="no_regression", state=CheckState.PASSED if passed else CheckState.FAILED,
                     sentence=f"{head}: {verdict}", metric=ACCURACY, value=drop, threshold=max_accuracy_drop,
                     numbers=numbers)


def class_list_mismatch(candidate: List[str], baseline: Optional[List[str]]) -> Optional[str]:
    """Why the baseline cannot be compared with the candidate, or None when it can."""
    if baseline is None:
        return (f"the baseline model has no class list ({MODEL_EXTRA_DIR}/{VOCABULARY_FILE}), "
                "so it may be for another task")
    difference = class_list_difference(baseline, candidate)
    if difference is None:
        return None
    return f"the baseline model was trained for a different class list than the candidate's ({difference})"


def leak_check(leaked: int, test_images: int, max_share: float, dropped: bool, list_path: str,
               split: str) -> GateCheck:
    """Test images with a near-copy in train inflate the test accuracy: more than --max-leaked-test-share
    of them refuses the blessing, unless they were dropped from grading (--drop-leaked-test)."""
    share = leaked / test_images if test_images else 0.0
    numbers = {"leaked": leaked, "test_images": test_images, "share": share, "max_share": max_share,
               "dropped": dropped, "list": list_path}
    where = f"(list: {list_path})"
    if dropped:
        sentence = (f"{leaked} of {test_images} {split} images have a near-copy in train {where}; they were "
                    "dropped from grading (--drop-leaked-test)")
        passed = True
    else:
        passed = share <= max_share + 1e-12
        consequence = "" if passed else (f": the {split} accuracy would be inflated, so the model is not blessed "
                                         "(remove the copies, or pass --drop-leaked-test to grade without them)")
        sentence = (f"{leaked} of {test_images} {split} images ({share:.2%}) have a near-copy in train {where}, "
                    f"{'within' if passed else 'above'} the allowed {max_share:.2%} (--max-leaked-test-share)"
                    f"{consequence}")
    return GateCheck(name="no_leaks", state=CheckState.PASSED if passed else CheckState.FAILED, sentence=sentence,
                     metric="leaked_share", value=share, threshold=max_share, numbers=numbers)
