"""What `snout run` prints at the end, read back from MLMD and the artifacts: gate, metrics, push."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from contract import evaluation as ev
from report.dataset import read_anomalies
from report.lineage import custom_property, latest_artifact, open_store
from report.metrics import read_evaluation


@dataclass
class RunOutcome:
    blessed: Optional[bool] = None
    pushed: bool = False
    already_served: bool = False
    pushed_dir: Optional[str] = None
    pushed_version: Optional[str] = None
    split: Optional[str] = None                 # the split the gate graded (test)
    accuracy: Optional[float] = None
    top_k_accuracy: Optional[float] = None
    example_count: Optional[int] = None
    validation: Dict[str, object] = field(default_factory=dict)  # the candidate on the validation split
    calibration: Dict[str, object] = field(default_factory=dict)  # gate.json: temperature, ECE before/after
    model_dir: Optional[str] = None
    evaluation_dir: Optional[str] = None
    model_run_dir: Optional[str] = None
    checks: List[ev.GateCheck] = field(default_factory=list)
    infra_blessed: Optional[bool] = None  # the candidate loaded and answered as a model server would
    infra_reason: Optional[str] = None
    per_class: Dict[str, dict] = field(default_factory=dict)  # class -> precision, recall, support
    # ExampleValidator's findings per split: feature -> short description.
    data_anomalies: Dict[str, Dict[str, str]] = field(default_factory=dict)

    @property
    def failed_thresholds(self) -> List[str]:
        """Every failed check of the gate, as a sentence."""
        return [c.sentence for c in self.checks if c.applied and not c.passed]


def read_outcome(metadata_path: str, pipeline_name: str, class_names=None) -> RunOutcome:
    outcome = RunOutcome()
    store = open_store(metadata_path)
    blessing = latest_artifact(store, "ModelBlessing", pipeline_name)
    if blessing is not None:
        outcome.blessed = bool(custom_property(blessing, "blessed"))
    infra = latest_artifact(store, "InfraBlessing", pipeline_name)
    if infra is not None:
        outcome.infra_blessed = bool(custom_property(infra, "blessed"))
        outcome.infra_reason = custom_property(infra, "reason")
    push = latest_artifact(store, "PushedModel", pipeline_name)
    if push is not None:
        outcome.pushed = bool(custom_property(push, "pushed"))
        outcome.already_served = bool(custom_property(push, "already_served"))
        outcome.pushed_dir = custom_property(push, "pushed_destination")
        outcome.pushed_version = custom_property(push, "pushed_version")
    model = latest_artifact(store, "Model", pipeline_name)
    if model is not None:
        outcome.model_dir = os.path.join(model.uri, "Format-Serving")
    run = latest_artifact(store, "ModelRun", pipeline_name)
    if run is not None:
        outcome.model_run_dir = run.uri
    # Transform also writes ExampleAnomalies (post-transform); the data check is ExampleValidator's.
    anomalies = latest_artifact(store, "ExampleAnomalies", pipeline_name, node_id="ExampleValidator")
    if anomalies is not None:
        outcome.data_anomalies = read_anomalies(anomalies.uri)
    evaluation = latest_artifact(store, "ModelEvaluation", pipeline_name)
    if evaluation is not None:
        _read_evaluation(outcome, evaluation.uri, list(class_names or []))
    return outcome


def _read_evaluation(outcome: RunOutcome, evaluation_uri: str, class_names: List[str]) -> None:
    outcome.evaluation_dir = evaluation_uri
    summary = read_evaluation(evaluation_uri, class_names)
    outcome.accuracy, outcome.top_k_accuracy = summary.accuracy, summary.top_k_accuracy
    outcome.example_count, outcome.per_class = summary.example_count, summary.per_class
    gate = ev.read_gate(evaluation_uri)
    outcome.split, outcome.checks, outcome.validation = gate.split, gate.checks, gate.validation
    outcome.calibration = gate.calibration
