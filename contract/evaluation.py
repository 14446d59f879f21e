"""What the Evaluator writes and the CLI/report read: metric names, the gate's decision file.

The Evaluator (components/evaluator) runs TFMA on the test split, then writes
`<evaluation>/gate.json`: every check of the gate with its numbers and a sentence, the
baseline it was compared with, and the candidate's metrics on the validation split.
TFMA's own files (metrics, plots, validations) sit beside it.
"""

from __future__ import annotations

import enum
import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

# TFMA metric names (MetricKey.name) the Evaluator computes.
ACCURACY = "sparse_categorical_accuracy"
TOP_K_ACCURACY = "top_5_accuracy"
TOP_K = 5                               # top-k accuracy is computed for more than this many classes
EXAMPLE_COUNT = "example_count"
PRECISION = "precision"                 # per class, of the argmax: from TFMA's multi-class confusion matrix
RECALL = "recall"
CANDIDATE_ONLY_CORRECT = "candidate_only_correct"  # paired counts: test examples exactly one model gets right
BASELINE_ONLY_CORRECT = "baseline_only_correct"
CANDIDATE, BASELINE = "candidate", "baseline"      # TFMA's model names when there is a baseline
ECE_BEFORE = "expected_calibration_error_before"   # top-1, 15 bins: untempered, and as exported (tempered)
ECE_AFTER = "expected_calibration_error_after"

GATE_FILE = "gate.json"
VALIDATION_DIR = "validation"           # <evaluation>/validation: TFMA's metrics of the candidate on that split


def mcnemar_p_value(baseline_only: int, candidate_only: int) -> float:
    """One-sided exact McNemar p: the chance of >= baseline_only of the discordant pairs going
    the baseline's way if both models were equally accurate. (The gate's test; `snout compare`
    doubles the smaller tail for its two-sided test.)"""
    n = baseline_only + candidate_only
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(baseline_only, n + 1)) / 2 ** n


class CheckState(str, enum.Enum):
    """What became of one rule of the gate (a str, so gate.json holds the plain word)."""
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"       # not applied; the sentence says why (e.g. no baseline to compare with)


@dataclass(kw_only=True)
class GateCheck:
    """One rule of the gate, as a sentence and the numbers behind it."""
    name: str                     # "min_accuracy" | "no_regression" | "tfma_threshold" | "no_leaks"
    state: CheckState
    sentence: str
    metric: str = ACCURACY
    slice: str = "overall"
    value: Optional[float] = None
    threshold: Optional[float] = None
    numbers: Dict[str, object] = field(default_factory=dict)

    def __post_init__(self):
        self.state = CheckState(self.state)  # as read back from gate.json

    @property
    def applied(self) -> bool:
        return self.state is not CheckState.SKIPPED

    @property
    def passed(self) -> bool:
        """Did not fail: a skipped rule blocks nothing."""
        return self.state is not CheckState.FAILED


@dataclass
class GateResult:
    blessed: bool
    split: str                                   # the split the gate graded
    example_count: Optional[int] = None
    checks: List[GateCheck] = field(default_factory=list)
    baseline: Dict[str, object] = field(default_factory=dict)    # source, model_dir, version, class match
    validation: Dict[str, object] = field(default_factory=dict)  # split, accuracy, top_5_accuracy, example_count
    # temperature, ece_before/ece_after, reliability_before/_after (15 bins), coverage (accuracy vs coverage)
    calibration: Dict[str, object] = field(default_factory=dict)

    @property
    def failures(self) -> List[GateCheck]:
        return [c for c in self.checks if c.state is CheckState.FAILED]


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def write_gate(evaluation_uri: str, result: GateResult) -> None:
    with _gfile().GFile(os.path.join(evaluation_uri, GATE_FILE), "w") as f:
        f.write(json.dumps(asdict(result), indent=2, sort_keys=True))


def read_gate(evaluation_uri: str) -> GateResult:
    """The gate's decision, as the Evaluator wrote it beside TFMA's results."""
    with open(os.path.join(evaluation_uri, GATE_FILE), encoding="utf-8") as f:
        raw = json.load(f)
    raw["checks"] = [GateCheck(**c) for c in raw["checks"]]
    return GateResult(**raw)


def metric_values(evaluation_uri: str):
    """TFMA's metrics as {slice: {(name, model, is_diff, class_id): value}}; slice None = overall."""
    import tensorflow_model_analysis as tfma

    by_slice = {}
    for slice_metrics in tfma.load_metrics(evaluation_uri):
        keys = slice_metrics.slice_key.single_slice_keys
        slice_id = int(keys[0].int64_value) if keys else None
        values = {}
        for kv in slice_metrics.metric_keys_and_values:
            if not kv.value.HasField("double_value"):
                continue
            key = kv.key
            class_id = key.sub_key.class_id.value if key.sub_key.HasField("class_id") else None
            model = BASELINE if key.model_name == BASELINE else CANDIDATE
            values[(key.name, model, bool(key.is_diff), class_id)] = kv.value.double_value.value
        by_slice[slice_id] = values
    return by_slice
