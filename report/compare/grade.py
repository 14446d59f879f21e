"""Grading the runs side by side: data digests, each model run on its test photos, pairwise tests, disagreements.

Each model is run on the graded split's records (test), never on validation or train: the split
that played no part in choosing any of them.
At most `max_test_images` photos (the lowest record hashes, the same sample for every run of
the same data); the table's accuracies stay the Evaluator's, on the whole split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from report.compare import records
from report.compare.pairs import PairTest, holm, paired, skipped
from report.compare.runs import Run
from report.predictions import classify

DEFAULT_MAX_TEST_IMAGES = 2000


@dataclass
class Outcome:
    """One run's answers on its test photos."""
    test: records.GradedPhotos
    predicted: np.ndarray            # [N] class index
    confidence: np.ndarray           # [N]

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == np.asarray(self.test.labels)

    @property
    def accuracy(self) -> Optional[float]:
        return float(np.mean(self.correct)) if len(self.predicted) else None


@dataclass
class Disagreements:
    """Photos that runs on the same test photos answer differently."""
    labels: List[str]                # the runs
    test: records.GradedPhotos
    indices: List[int] = field(default_factory=list)


def digest_data(runs: List[Run], log: Callable[[str], None]) -> None:
    done: Dict[str, Tuple[str, dict]] = {}
    for run in runs:
        if run.examples_uri is None:
            continue
        if run.examples_uri not in done:
            log(f"digesting the records of {run.examples_uri}")
            done[run.examples_uri] = records.data_digest(run.examples_uri)
        run.data_digest, run.split_digests = done[run.examples_uri]


def run_models(runs: List[Run], max_test_images: int, log: Callable[[str], None]) -> Dict[str, Outcome]:
    """Each graded run's model on its data's test photos (one read of the photos per data digest)."""
    tests: Dict[Tuple[str, str], records.GradedPhotos] = {}
    outcomes: Dict[str, Outcome] = {}
    for run in runs:
        if not run.graded or not run.data_digest:
            continue
        key = (run.data_digest, run.report.split)
        if key not in tests:
            tests[key] = records.read_graded_photos(run.examples_uri, run.report.split, max_test_images)
        test = tests[key]
        log(f"running {run.name}'s model on {len(test.keys)} {test.split} photos"
            + (f" (of {test.total}, --max-test-images)" if test.bounded else ""))
        try:
            probabilities = classify(run.model_dir, test.images, len(run.class_names))
        except Exception as e:  # noqa: BLE001 - one model that cannot run must not hide the others
            run.missing["paired test"] = f"its model could not be run: {type(e).__name__}: {e}"
            continue
        outcomes[run.label] = Outcome(test, probabilities.argmax(axis=1), probabilities.max(axis=1))
    return outcomes


def why_not_paired(a: Run, b: Run, outcomes: Dict[str, Outcome]) -> Optional[str]:
    for run in (a, b):
        if run.label not in outcomes:
            why = run.missing.get("paired test") or run.missing.get("data") or "it has no test records or model"
            return f"{run.label} was not graded on test photos here: {why}"
    if a.class_names != b.class_names:
        return (f"different class lists ({a.label}: {len(a.class_names)} classes, {b.label}: "
                f"{len(b.class_names)} classes, or another order)")
    if a.data_digest != b.data_digest:
        same_test = (a.split_digests.get(a.report.split, {}).get("digest")
                     == b.split_digests.get(b.report.split, {}).get("digest"))
        return (f"different data (content digest {a.data_digest[:12]} vs {b.data_digest[:12]}"
                + ("; the test photos are the same but the training or validation data differ)" if same_test
                   else "): not graded on the same test photos"))
    return None


def pairwise(runs: List[Run], outcomes: Dict[str, Outcome]) -> List[PairTest]:
    tests = []
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            reason = why_not_paired(a, b, outcomes)
            if reason:
                tests.append(skipped(a.label, b.label, reason))
                continue
            test = outcomes[a.label].test
            tests.append(paired(a.label, b.label, outcomes[a.label].correct, outcomes[b.label].correct, test.total))
    holm(tests)
    return tests


def disagreements(runs: List[Run], outcomes: Dict[str, Outcome]) -> List[Disagreements]:
    """Per group of runs graded on the same photos (same data and class list): where their answers differ."""
    groups: Dict[Tuple, List[Run]] = {}
    for run in runs:
        if run.label in outcomes:
            groups.setdefault((run.data_digest, tuple(run.class_names)), []).append(run)
    found = []
    for members in groups.values():
        if len(members) < 2:
            continue
        answers = np.stack([outcomes[r.label].predicted for r in members])
        indices = [int(i) for i in np.nonzero((answers != answers[0]).any(axis=0))[0]]
        found.append(Disagreements([r.label for r in members], outcomes[members[0].label].test, indices))
    return found
