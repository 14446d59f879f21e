"""Is one run better than another on the same test photos? McNemar's exact test on the paired outcomes.

For runs A and B graded on the same photos, only the photos exactly one of them gets right
count: a = right only by A, b = right only by B. If both were equally accurate, each such
photo would go either way with probability 1/2, so a ~ Binomial(a + b, 1/2). The question
"is there a difference?" has no preferred direction, so the test is **two-sided**: twice the
smaller one-sided tail (the gate's one-sided exact McNemar p, contract.evaluation), at most 1.
With more than one pair, the p-values are Holm-adjusted (several comparisons, each at 5%,
would otherwise find a difference by chance more often than 5% of the time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from contract.evaluation import mcnemar_p_value

ALPHA = 0.05
TEST_NAME = "McNemar's exact test, two-sided (Holm-adjusted over the pairs)"


@dataclass
class PairTest:
    a: str                          # run labels, in argument order
    b: str
    tested: bool = False
    reason: str = ""                # why the test was skipped
    examples: int = 0               # test photos both runs were graded on
    total: int = 0                  # photos in the test split (more than `examples` when bounded)
    a_only: int = 0                 # right only by A
    b_only: int = 0
    both_right: int = 0
    both_wrong: int = 0
    p_value: Optional[float] = None  # two-sided exact McNemar
    p_adjusted: Optional[float] = None  # Holm over the tested pairs
    significant: bool = False
    better: Optional[str] = None    # the label of the better run, when significant
    sentence: str = ""


def two_sided_p(a_only: int, b_only: int) -> float:
    """Twice the smaller exact one-sided tail, capped at 1."""
    return min(1.0, 2.0 * mcnemar_p_value(max(a_only, b_only), min(a_only, b_only)))


def paired(a: str, b: str, a_correct: np.ndarray, b_correct: np.ndarray, total: int) -> PairTest:
    a_correct, b_correct = np.asarray(a_correct, bool), np.asarray(b_correct, bool)
    test = PairTest(a=a, b=b, tested=True, examples=int(len(a_correct)), total=int(total),
                    a_only=int(np.sum(a_correct & ~b_correct)), b_only=int(np.sum(b_correct & ~a_correct)),
                    both_right=int(np.sum(a_correct & b_correct)), both_wrong=int(np.sum(~a_correct & ~b_correct)))
    test.p_value = two_sided_p(test.a_only, test.b_only)
    return test


def skipped(a: str, b: str, reason: str) -> PairTest:
    return PairTest(a=a, b=b, reason=reason, sentence=f"{a} vs {b}: not tested: {reason}")


def holm(tests: List[PairTest]) -> None:
    """Holm's step-down adjustment over the tested pairs; then each verdict and sentence."""
    tested = sorted((t for t in tests if t.tested), key=lambda t: t.p_value)
    running = 0.0
    for rank, test in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * test.p_value))
        test.p_adjusted = running
    for test in tested:
        test.significant = test.p_adjusted < ALPHA
        if test.significant:
            test.better = test.a if test.a_only > test.b_only else test.b
        test.sentence = sentence(test, len(tested))


def p_text(p: float) -> str:
    if p < 0.0001:
        return "< 0.0001"
    return f"= {p:.2f}" if p >= 0.01 else f"= {p:.2g}"


def sentence(test: PairTest, pairs: int) -> str:
    photos = f"the same {test.examples} test photos"
    if test.total > test.examples:
        photos += f" (of {test.total}: a sample by content hash, --max-test-images)"
    p = f"p {p_text(test.p_value)}"
    if pairs > 1:
        p += f", Holm-adjusted over {pairs} pairs {p_text(test.p_adjusted)}"
    counts = f"{test.a} alone is right on {test.a_only}, {test.b} alone on {test.b_only}"
    if test.significant:
        worse = test.b if test.better == test.a else test.a
        return f"{test.better} is better than {worse} on {photos} ({p}; {counts})"
    return f"no significant difference between {test.a} and {test.b} on {photos} ({p}; {counts})"
