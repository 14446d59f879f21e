"""Gathers what `snout report` shows, from MLMD and the artifacts, into one ReportData.

The anchor is the newest ModelEvaluation of the pipeline (the same one
report/results.read_outcome reads); everything else is found by lineage from it:

  Evaluator --inputs--> model (Trainer) --> custom_config (class names), ModelRun (history.json)
                                         \\-> hyperparameters (Tuner) --> tuner_results, trial_*/trial.json
            --inputs--> examples (ImportExampleGen) --> input_base (dataset dir: summary.json)
            --outputs-> evaluation (TFMA + gate.json), blessing --consumed by--> Pusher --> PushedModel
  model --consumed by--> LiteExport --> LiteModel (lite_parity.json) --consumed by--> LitePusher --> LitePushedModel

Each section is collected on its own (blessing.py, metrics.py, dataset.py, tuning.py,
predictions.py): a section that can't be built is recorded in `ReportData.problems` and the
page says so, instead of the whole report failing.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import contract
from report import lineage as mlmd
from report.blessing import Blessing, read_blessing
from report.dataset import DataStats, read_data_stats
from report.lite import LiteSummary, read_for_model as read_lite
from report.metrics import EvaluationSummary, read_evaluation
from report.predictions import DEFAULT_MAX_IMAGES, Predictions, run_model
from report.tuning import Tuning, read_tuning


@dataclass
class ReportData:
    pipeline_name: str = "snout"
    metadata_path: str = ""
    generated_at: str = ""
    class_names: List[str] = field(default_factory=list)
    history: Dict[str, Dict[str, List[float]]] = field(default_factory=dict)  # phase -> metric -> per epoch
    history_notes: Dict[str, object] = field(default_factory=dict)  # other history.json keys (phase2_kept)
    model_run_dir: Optional[str] = None
    model_dir: Optional[str] = None
    evaluation_dir: Optional[str] = None
    split: str = contract.TEST_SPLIT                       # the split the gate graded (the headline)
    evaluation: EvaluationSummary = field(default_factory=EvaluationSummary)
    validation: Dict[str, object] = field(default_factory=dict)  # the candidate on the validation split
    blessing: Blessing = field(default_factory=Blessing)
    data: DataStats = field(default_factory=DataStats)
    tuning: Optional[Tuning] = None
    predictions: Optional[Predictions] = None
    lite: Optional[LiteSummary] = None  # the edge export (TFLite files, parity gate, push)
    problems: Dict[str, str] = field(default_factory=dict)  # section -> why it is missing
    audit_dir: Optional[str] = None  # the DataAudit artifact the Evaluator read (report/audit.py)


def collect(metadata_path: str, pipeline_name: str = "snout", max_images: int = DEFAULT_MAX_IMAGES,
            predictions: bool = True, evaluation_uri: Optional[str] = None,
            cache_dir: Optional[str] = None) -> ReportData:
    """Everything the report shows, for the newest evaluation in `pipeline_name`, or for the
    ModelEvaluation artifact at `evaluation_uri` (one particular run). `cache_dir`: where the model's
    run on the graded images is kept for a report of the same model and records (report/reuse.py)."""
    from contract.errors import UserError

    if not os.path.isfile(metadata_path):
        raise UserError(f"{metadata_path}: no MLMD database (run `snout run` first)")
    report = ReportData(pipeline_name=pipeline_name, metadata_path=os.path.abspath(metadata_path),
                        generated_at=time.strftime("%Y-%m-%d %H:%M:%S"))
    store = mlmd.open_store(os.path.abspath(metadata_path))
    lineage = mlmd.Lineage(store)
    evaluation = _evaluation_artifact(store, metadata_path, pipeline_name, evaluation_uri)
    report.evaluation_dir = evaluation.uri

    evaluator = lineage.producer(evaluation)
    model = lineage.first_input(evaluator, "model") or mlmd.latest_artifact(store, "Model", pipeline_name)
    examples = lineage.first_input(evaluator, "examples") or mlmd.latest_artifact(store, "Examples", pipeline_name)
    blessing = (lineage.first_output(evaluator, "blessing")
                or mlmd.latest_artifact(store, "ModelBlessing", pipeline_name))
    trainer = lineage.producer(model) if model is not None else None
    audit = lineage.first_input(evaluator, "audit")
    report.audit_dir = audit.uri if audit is not None else None
    report.model_dir = os.path.join(model.uri, "Format-Serving") if model is not None else None
    example_gen = lineage.producer(examples) if examples is not None else None
    data_dir = mlmd.custom_property(example_gen, "input_base") if example_gen is not None else None
    report.data.data_dir = data_dir
    report.class_names = _class_names(trainer, data_dir, report.model_dir)

    _section(report, "curves", lambda: _history(report, lineage.first_output(trainer, "model_run")
                                                or mlmd.latest_artifact(store, "ModelRun", pipeline_name)))
    _section(report, "blessing", lambda: _blessing(report, read_blessing(evaluation.uri, blessing, lineage, store,
                                                                         pipeline_name)))
    _section(report, "evaluation", lambda: setattr(report, "evaluation",
                                                   read_evaluation(evaluation.uri, report.class_names)))
    _section(report, "data", lambda: setattr(report, "data", read_data_stats(data_dir)))
    _section(report, "tuning", lambda: setattr(report, "tuning", read_tuning(
        lineage.first_input(trainer, "hyperparameters"), lineage)))
    if model is not None:
        _section(report, "lite", lambda: setattr(report, "lite", read_lite(store, model)))
    if predictions:
        _section(report, "predictions", lambda: setattr(report, "predictions", run_model(
            report.model_dir, examples.uri if examples is not None else None, data_dir, report.split, max_images,
            len(report.class_names), cache_dir=cache_dir)))
    else:
        report.problems["predictions"] = "skipped (--no-predictions)"
    return report


def _evaluation_artifact(store, metadata_path: str, pipeline_name: str, evaluation_uri: Optional[str]):
    from contract.errors import UserError

    if evaluation_uri:
        matches = store.get_artifacts_by_uri(os.path.abspath(evaluation_uri).rstrip("/"))
        if not matches:
            raise UserError(f"{evaluation_uri}: not an artifact recorded in {metadata_path}")
        return max(matches, key=lambda a: a.id)
    evaluation = mlmd.latest_artifact(store, "ModelEvaluation", pipeline_name)
    if evaluation is None:
        raise UserError(f"{metadata_path}: pipeline '{pipeline_name}' has no Evaluator output yet")
    return evaluation


def _section(report: ReportData, name: str, fn) -> None:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - one broken section must not hide the others
        report.problems[name] = f"{type(e).__name__}: {e}"


def _blessing(report: ReportData, blessing: Blessing) -> None:
    report.blessing = blessing
    report.split = blessing.split or report.split
    report.validation = dict(blessing.validation)


def _class_names(trainer, data_dir: Optional[str], model_dir: Optional[str]) -> List[str]:
    try:
        custom = json.loads(mlmd.custom_property(trainer, "custom_config") or "{}") if trainer is not None else {}
    except ValueError:
        custom = {}
    if custom.get("class_names"):
        return list(custom["class_names"])
    # labels.txt beside the records, else the copy the exporter put in the model's assets.extra.
    for folder in [d for d in (data_dir, model_dir and os.path.join(model_dir, contract.MODEL_EXTRA_DIR)) if d]:
        try:
            return contract.read_vocabulary(folder)
        except (FileNotFoundError, ValueError):
            continue
    return []


def _history(report: ReportData, run) -> None:
    if run is None:
        raise FileNotFoundError("no ModelRun artifact")
    report.model_run_dir = run.uri
    with open(os.path.join(run.uri, "history.json"), encoding="utf-8") as f:
        raw = json.load(f)
    for key, value in raw.items():
        if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
            report.history[key] = {k: [float(x) for x in v] for k, v in value.items()}
        else:
            report.history_notes[key] = value
