"""One compared run: what `snout report` collects for it (report/collect.py), plus its settings, timing and size.

Settings come from the Trainer's custom_config in MLMD and the model's provenance
(assets.extra/snout_model.json: the head actually trained, tuned or not, and since this
change the training record: seconds, parameters, epochs run). A pushed model directory
that no workspace records is known by its provenance alone; what that leaves out is listed
in `missing`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import contract
from report import lineage as mlmd
from report.collect import ReportData, collect
from report.compare.resolve import Located

RUN_LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class Run:
    label: str                     # A, B, C ... in argument order
    source: str                    # the argument as given
    note: str = ""                 # how it was chosen
    report: ReportData = field(default_factory=ReportData)  # class names, history, evaluation, blessing, data
    trainer_execution_id: Optional[int] = None
    examples_uri: Optional[str] = None  # the ExampleGen output it was trained and graded on
    config: Dict[str, object] = field(default_factory=dict)      # the Trainer's settings (trainer_settings)
    provenance: Dict[str, object] = field(default_factory=dict)  # the model's snout_model.json
    training_seconds: Optional[float] = None
    training_seconds_source: str = ""
    model_bytes: Optional[int] = None
    data_digest: Optional[str] = None
    split_digests: Dict[str, dict] = field(default_factory=dict)  # split -> {digest, records}
    missing: Dict[str, str] = field(default_factory=dict)        # what -> why

    @property
    def name(self) -> str:
        """"A (mobilenet_v2)": the label and the backbone, for legends and sentences."""
        backbone = self.provenance.get("backbone") or self.config.get("backbone")
        return f"{self.label} ({backbone})" if backbone else self.label

    @property
    def class_names(self) -> List[str]:
        return self.report.class_names

    @property
    def model_dir(self) -> Optional[str]:
        return self.report.model_dir

    @property
    def graded(self) -> bool:
        return self.examples_uri is not None and self.model_dir is not None


def build_run(label: str, located: Located, pipeline_name: str) -> Run:
    run = Run(label=label, source=located.source, note=located.note)
    if located.model is None:
        _from_provenance_only(run, located.model_dir)
    else:
        _from_store(run, located, pipeline_name)
    run.provenance = _provenance(run.model_dir)
    run.model_bytes = _folder_bytes(run.model_dir)
    _training_time(run, located)
    if not run.class_names and run.provenance.get("class_names"):
        run.report.class_names = list(run.provenance["class_names"])
    return run


def _from_store(run: Run, located: Located, pipeline_name: str) -> None:
    store = mlmd.open_store(located.metadata_path)
    lineage = mlmd.Lineage(store)
    trainer = lineage.producer(located.model)
    run.trainer_execution_id = trainer.id if trainer is not None else None
    run.config = trainer_settings(trainer)
    examples = lineage.first_input(trainer, "examples")
    run.examples_uri = examples.uri if examples is not None else None
    if located.evaluation is not None:
        run.report = collect(located.metadata_path, pipeline_name, predictions=False,
                             evaluation_uri=located.evaluation.uri)
    else:  # trained, never evaluated: what the Trainer left
        run.report = ReportData(pipeline_name=pipeline_name, metadata_path=located.metadata_path,
                                model_dir=os.path.join(located.model.uri, "Format-Serving"),
                                class_names=list(run.config.get("class_names", [])))
        run.missing["test metrics"] = "the model was never evaluated (no Evaluator output for it)"
        _history(run, lineage.first_output(trainer, "model_run"))
    run.report.problems.pop("predictions", None)  # compare runs the models itself


def _history(run: Run, model_run) -> None:
    path = os.path.join(model_run.uri, "history.json") if model_run is not None else ""
    if not os.path.isfile(path):
        run.missing["curves"] = "no history.json from the Trainer"
        return
    run.report.model_run_dir = model_run.uri
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    run.report.history = {k: v for k, v in raw.items() if isinstance(v, dict)}
    run.report.history_notes = {k: v for k, v in raw.items() if not isinstance(v, dict)}


def _from_provenance_only(run: Run, model_dir: str) -> None:
    run.report = ReportData(model_dir=model_dir)
    try:
        run.report.class_names = contract.read_vocabulary(os.path.join(model_dir, contract.MODEL_EXTRA_DIR))
    except (FileNotFoundError, ValueError):
        pass
    why = "a model directory no workspace records (pass --workspace if one pushed it)"
    for what in ("test metrics", "curves", "data", "paired test"):
        run.missing[what] = why


def trainer_settings(execution) -> dict:
    """The Trainer's custom_config (its TrainerSettings) with the network's fields at the top, as the
    model's provenance names them (backbone, weights, image_size ...)."""
    config = _json_property(execution, "custom_config")
    network = config.get("network")
    return {**config, **network} if isinstance(network, dict) else config


def _json_property(execution, name: str) -> dict:
    try:
        return json.loads(mlmd.custom_property(execution, name) or "{}") if execution is not None else {}
    except ValueError:
        return {}


def _provenance(model_dir: Optional[str]) -> dict:
    path = os.path.join(model_dir or "", contract.MODEL_EXTRA_DIR, contract.MODEL_INFO_FILE)
    if not model_dir or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _folder_bytes(folder: Optional[str]) -> Optional[int]:
    if not folder or not os.path.isdir(folder):
        return None
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(folder) for name in names)


def _training_time(run: Run, located: Located) -> None:
    """The Trainer's own measure (run_fn, start to export) when recorded; else the Trainer execution's span."""
    recorded = (run.provenance.get("training") or {}).get("training_seconds")
    if recorded is not None:
        run.training_seconds, run.training_seconds_source = float(recorded), "run_fn, start to export"
        return
    if run.trainer_execution_id is None:
        run.missing["training time"] = "not in the model's provenance (trained before snout recorded it)"
        return
    store = mlmd.open_store(located.metadata_path)
    execution = store.get_executions_by_id([run.trainer_execution_id])[0]
    span = (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000.0
    run.training_seconds, run.training_seconds_source = span, "Trainer execution in MLMD, start to end"
