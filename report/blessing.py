"""The gate's decision for one evaluation (the Evaluator's gate.json) and what the Pusher did with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from contract import evaluation as ev
from report.lineage import custom_property, latest_artifact


@dataclass
class Blessing:
    blessed: Optional[bool] = None
    split: Optional[str] = None                 # the split the gate graded
    checks: List[ev.GateCheck] = field(default_factory=list)
    baseline: Dict[str, object] = field(default_factory=dict)  # source, model_dir, version, accuracy, skipped
    validation: Dict[str, object] = field(default_factory=dict)  # the candidate on the validation split
    calibration: Dict[str, object] = field(default_factory=dict)  # temperature, ECE, reliability, coverage
    candidate_model: Optional[str] = None
    pushed: bool = False
    already_served: bool = False
    pushed_version: Optional[str] = None
    pushed_dir: Optional[str] = None

    def check(self, name: str) -> Optional[ev.GateCheck]:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def min_accuracy(self) -> Optional[float]:
        found = self.check("min_accuracy")
        return found.threshold if found else None

    @property
    def max_accuracy_drop(self) -> Optional[float]:
        found = self.check("no_regression")
        return found.threshold if found else None

    @property
    def failures(self) -> List[ev.GateCheck]:
        return [c for c in self.checks if c.applied and not c.passed]


def read_blessing(evaluation_uri: str, blessing, lineage, store, pipeline_name: str) -> Blessing:
    """`blessing` is the Evaluator's ModelBlessing artifact (or None); the push is found by lineage."""
    b = Blessing()
    gate = ev.read_gate(evaluation_uri)
    b.blessed, b.split, b.checks, b.baseline = gate.blessed, gate.split, gate.checks, gate.baseline
    b.validation, b.calibration = gate.validation, gate.calibration
    if blessing is None:
        return b
    b.blessed = bool(custom_property(blessing, "blessed"))
    b.candidate_model = custom_property(blessing, "current_model")
    # The Pusher reads it as model_blessing (a later run's Evaluator may read it too, as baseline_blessing).
    pushed = lineage.first_output(lineage.newest_consumer(blessing, key="model_blessing"), "pushed_model")
    pushed = pushed or latest_artifact(store, "PushedModel", pipeline_name)
    if pushed is not None:
        b.pushed = bool(custom_property(pushed, "pushed"))
        b.already_served = bool(custom_property(pushed, "already_served"))
        b.pushed_version = custom_property(pushed, "pushed_version")
        b.pushed_dir = custom_property(pushed, "pushed_destination")
    return b
