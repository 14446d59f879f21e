"""Gathers what `snout report` shows, from MLMD and the artifacts, into plain dataclasses.

The anchor is the newest ModelEvaluation of the pipeline (the same one
pipeline/results.read_outcome reads); everything else is found by lineage from it:

  Evaluator --inputs--> model (Trainer) --> custom_config (class names), ModelRun (history.json)
                                         \\-> hyperparameters (Tuner) --> tuner_results, trial_*/trial.json
            --inputs--> examples (ImportExampleGen) --> input_base (dataset dir: summary.json)
            --outputs-> blessing --consumed by--> Pusher --> PushedModel

Each section is collected on its own: a section that can't be built is recorded in
`ReportData.problems` and the page says so, instead of the whole report failing.
"""

from __future__ import annotations

import glob
import json
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from report.results import candidate_summary, custom_property, label_of, metric_values

DEFAULT_MAX_IMAGES = 200
TUNER_PROJECT = "snout_head_search"


@dataclass
class Blessing:
    blessed: Optional[bool] = None
    validation_ok: Optional[bool] = None
    min_accuracy: Optional[float] = None
    max_accuracy_drop: Optional[float] = None
    accuracy: Optional[float] = None
    baseline_accuracy: Optional[float] = None
    accuracy_change: Optional[float] = None
    baseline_model: Optional[str] = None
    candidate_model: Optional[str] = None
    failures: List[str] = field(default_factory=list)
    pushed: bool = False
    already_served: bool = False
    pushed_version: Optional[str] = None
    pushed_dir: Optional[str] = None


@dataclass
class DataStats:
    data_dir: Optional[str] = None
    description: str = ""
    generated: bool = False
    counts: Dict[str, Dict[str, int]] = field(default_factory=dict)  # split -> class -> n
    skipped: Dict[str, int] = field(default_factory=dict)  # reason -> n
    warnings: List[str] = field(default_factory=list)


@dataclass
class Tuning:
    trials: List[dict] = field(default_factory=list)  # trial_id, status, score, values{...}
    best_hyperparameters: Dict[str, object] = field(default_factory=dict)
    source: str = ""


@dataclass
class Predictions:
    """The evaluated model run on (at most max_images) eval images."""
    images: List[bytes] = field(default_factory=list)  # encoded JPEG/PNG
    labels: List[int] = field(default_factory=list)
    probabilities: Optional[np.ndarray] = None  # [N, C]
    model_dir: str = ""
    examples_source: str = ""
    limit: int = DEFAULT_MAX_IMAGES

    @property
    def predicted(self) -> np.ndarray:
        return np.argmax(self.probabilities, axis=1) if self.probabilities is not None else np.zeros(0, int)

    @property
    def wrong(self) -> List[int]:
        return [i for i, (p, t) in enumerate(zip(self.predicted, self.labels)) if int(p) != int(t)]


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
    example_count: Optional[int] = None
    accuracy: Optional[float] = None
    confusion: Optional[np.ndarray] = None  # [C, C], rows actual, columns predicted (TFMA counts)
    unpredicted: Optional[np.ndarray] = None  # [C]: examples TFMA counted with no predicted class
    per_class: Dict[str, dict] = field(default_factory=dict)  # label -> precision, recall, support
    blessing: Blessing = field(default_factory=Blessing)
    data: DataStats = field(default_factory=DataStats)
    tuning: Optional[Tuning] = None
    predictions: Optional[Predictions] = None
    problems: Dict[str, str] = field(default_factory=dict)  # section -> why it is missing


# ---------------------------------------------------------------- MLMD lineage

class _Lineage:
    def __init__(self, store):
        from ml_metadata.proto import metadata_store_pb2 as pb

        self.store = store
        self.pb = pb
        self.types = {t.id: t.name for t in store.get_execution_types()}

    def io(self, execution_id: int):
        """(inputs, outputs) of an execution: key -> [artifacts]."""
        pb = self.pb
        events = self.store.get_events_by_execution_ids([execution_id])
        artifacts = {a.id: a for a in self.store.get_artifacts_by_id(list({e.artifact_id for e in events}))}
        inputs, outputs = defaultdict(list), defaultdict(list)
        for e in events:
            key = e.path.steps[0].key if e.path.steps else ""
            target = inputs if e.type in (pb.Event.INPUT, pb.Event.DECLARED_INPUT) else outputs
            if e.artifact_id in artifacts:
                target[key].append(artifacts[e.artifact_id])
        return inputs, outputs

    def _executions_by_event(self, artifact, kinds, newest: bool):
        ids = [e.execution_id for e in self.store.get_events_by_artifact_ids([artifact.id]) if e.type in kinds]
        if not ids:
            return None
        return self.store.get_executions_by_id([max(ids) if newest else min(ids)])[0]

    def producer(self, artifact):
        """The execution that first wrote `artifact` (cached reruns list it as output again)."""
        pb = self.pb
        return self._executions_by_event(artifact, (pb.Event.OUTPUT, pb.Event.DECLARED_OUTPUT), newest=False)

    def newest_consumer(self, artifact):
        pb = self.pb
        return self._executions_by_event(artifact, (pb.Event.INPUT, pb.Event.DECLARED_INPUT), newest=True)


# ---------------------------------------------------------------- collection

def collect(metadata_path: str, pipeline_name: str = "snout", max_images: int = DEFAULT_MAX_IMAGES,
            predictions: bool = True, evaluation_uri: Optional[str] = None) -> ReportData:
    """Everything the report shows, for the newest evaluation in `pipeline_name`, or for the
    ModelEvaluation artifact at `evaluation_uri` (one particular run)."""
    from report import results
    from contract.errors import UserError

    if not os.path.isfile(metadata_path):
        raise UserError(f"{metadata_path}: no MLMD database (run `snout run` first)")
    report = ReportData(pipeline_name=pipeline_name, metadata_path=os.path.abspath(metadata_path),
                        generated_at=time.strftime("%Y-%m-%d %H:%M:%S"))
    store = results.open_store(os.path.abspath(metadata_path))
    lineage = _Lineage(store)
    if evaluation_uri:
        wanted = os.path.abspath(evaluation_uri).rstrip("/")
        matches = [a for a in store.get_artifacts_by_uri(wanted)]
        if not matches:
            raise UserError(f"{evaluation_uri}: not an artifact recorded in {metadata_path}")
        evaluation = max(matches, key=lambda a: a.id)
    else:
        evaluation = results.latest_artifact(store, "ModelEvaluation", pipeline_name)
    if evaluation is None:
        raise UserError(f"{metadata_path}: pipeline '{pipeline_name}' has no Evaluator output yet")
    report.evaluation_dir = evaluation.uri

    evaluator = lineage.producer(evaluation)
    ev_inputs, ev_outputs = lineage.io(evaluator.id) if evaluator else ({}, {})
    model = (ev_inputs.get("model") or [None])[0] or results.latest_artifact(store, "Model", pipeline_name)
    examples = (ev_inputs.get("examples") or [None])[0] or results.latest_artifact(store, "Examples", pipeline_name)
    blessing = (ev_outputs.get("blessing") or [None])[0] or results.latest_artifact(store, "ModelBlessing", pipeline_name)

    trainer_inputs, trainer_outputs, custom = {}, {}, {}
    if model is not None:
        report.model_dir = os.path.join(model.uri, "Format-Serving")
        trainer = lineage.producer(model)
        if trainer is not None:
            trainer_inputs, trainer_outputs = lineage.io(trainer.id)
            try:
                custom = json.loads(custom_property(trainer, "custom_config") or "{}")
            except ValueError:
                custom = {}

    data_dir = None
    if examples is not None:
        example_gen = lineage.producer(examples)
        if example_gen is not None:
            data_dir = custom_property(example_gen, "input_base")
    report.data.data_dir = data_dir
    report.class_names = _class_names(custom, data_dir, report.model_dir)

    _section(report, "curves", lambda: _history(report, trainer_outputs, store, pipeline_name))
    _section(report, "evaluation", lambda: _evaluation(report, evaluation.uri))
    _section(report, "blessing", lambda: _blessing(report, evaluation.uri, evaluator, blessing, lineage, store,
                                                       pipeline_name))
    _section(report, "data", lambda: _data(report, data_dir))
    _section(report, "tuning", lambda: _tuning(report, trainer_inputs, lineage))
    if predictions:
        _section(report, "predictions", lambda: _predictions(report, examples, data_dir, max_images))
    else:
        report.problems["predictions"] = "skipped (--no-predictions)"
    return report


def _section(report: ReportData, name: str, fn) -> None:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - one broken section must not hide the others
        report.problems[name] = f"{type(e).__name__}: {e}"


def _class_names(custom: dict, data_dir: Optional[str], model_dir: Optional[str]) -> List[str]:
    from contract import read_vocabulary

    if custom.get("class_names"):
        return list(custom["class_names"])
    # labels.txt beside the records, else the copy the exporter put in the model's assets.extra.
    for folder in [d for d in (data_dir, model_dir and os.path.join(model_dir, "assets.extra")) if d]:
        try:
            return read_vocabulary(folder)
        except (FileNotFoundError, ValueError):
            continue
    return []


def _history(report: ReportData, trainer_outputs, store, pipeline_name: str) -> None:
    from report import results

    run = (trainer_outputs.get("model_run") or [None])[0] or results.latest_artifact(store, "ModelRun", pipeline_name)
    if run is None:
        raise FileNotFoundError("no ModelRun artifact")
    report.model_run_dir = run.uri
    path = os.path.join(run.uri, "history.json")
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    for key, value in raw.items():
        if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
            report.history[key] = {k: [float(x) for x in v] for k, v in value.items()}
        else:
            report.history_notes[key] = value


def _evaluation(report: ReportData, evaluation_uri: str) -> None:
    import tensorflow_model_analysis as tfma

    names = report.class_names
    by_slice = metric_values(evaluation_uri)
    report.accuracy, report.example_count, per_class = candidate_summary(by_slice.get(None, {}), names)
    for label, values in per_class.items():
        report.per_class.setdefault(label, {}).update(values)
    for slice_id, values in by_slice.items():
        if slice_id is None:
            continue
        support = values.get(("example_count", "candidate", False, None))
        if support is not None:
            report.per_class.setdefault(label_of(names, slice_id), {})["support"] = int(support)

    matrix = None
    for plots in tfma.load_plots(evaluation_uri):
        if plots.slice_key.single_slice_keys:
            continue
        for kv in plots.plot_keys_and_values:
            if kv.key.model_name == "baseline" or not kv.value.HasField("multi_class_confusion_matrix_at_thresholds"):
                continue
            matrices = list(kv.value.multi_class_confusion_matrix_at_thresholds.matrices)
            if matrices:
                # The default (and only) threshold, 0.0: every example goes to its argmax class.
                matrix = min(matrices, key=lambda m: abs(m.threshold))
    if matrix is None:
        raise ValueError("no multi_class_confusion_matrix_plot in the Evaluator's plots")
    size = max([len(names)] + [max(e.actual_class_id, e.predicted_class_id) + 1 for e in matrix.entries])
    confusion = np.zeros((size, size), dtype=np.int64)
    unpredicted = np.zeros(size, dtype=np.int64)
    for e in matrix.entries:
        n = int(round(e.num_weighted_examples))
        if e.predicted_class_id < 0:  # TFMA's NO_PREDICTED_CLASS_ID
            unpredicted[e.actual_class_id] += n
        else:
            confusion[e.actual_class_id, e.predicted_class_id] += n
    report.confusion, report.unpredicted = confusion, unpredicted


def _snake(obj):
    """Proto JSON in either spelling (TFX exec property: snake_case; TFMA's file: camelCase)."""
    import re

    if isinstance(obj, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): _snake(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_snake(v) for v in obj]
    return obj


def accuracy_thresholds(eval_config: dict):
    """(min_accuracy, max_accuracy_drop) of the SparseCategoricalAccuracy threshold, None when absent."""
    config = _snake(eval_config)
    config = config.get("eval_config", config)

    def number(v):
        return v.get("value") if isinstance(v, dict) else v

    for spec in config.get("metrics_specs", []):
        for metric in spec.get("metrics", []):
            if metric.get("class_name") != "SparseCategoricalAccuracy":
                continue
            threshold = metric.get("threshold") or next(
                (t.get("threshold", {}) for t in metric.get("per_slice_thresholds", [])), {})
            low = number(threshold.get("value_threshold", {}).get("lower_bound"))
            change = number(threshold.get("change_threshold", {}).get("absolute"))
            return (float(low) if low is not None else None,
                    abs(float(change)) if change is not None else None)
    return None, None


def _thresholds(evaluator, evaluation_uri: str):
    """As configured (the Evaluator's exec property); TFMA's saved copy drops the change
    threshold when there is no baseline yet, so it is only the fallback."""
    found = (None, None)
    if evaluator is not None and custom_property(evaluator, "eval_config"):
        found = accuracy_thresholds(json.loads(custom_property(evaluator, "eval_config")))
    path = os.path.join(evaluation_uri, "eval_config.json")
    if None in found and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            saved = accuracy_thresholds(json.load(f))
        found = tuple(a if a is not None else b for a, b in zip(found, saved))
    return found


def _blessing(report: ReportData, evaluation_uri: str, evaluator, blessing, lineage: _Lineage, store,
              pipeline_name) -> None:
    import tensorflow_model_analysis as tfma
    from report import results

    b = report.blessing
    b.min_accuracy, b.max_accuracy_drop = _thresholds(evaluator, evaluation_uri)
    overall = metric_values(evaluation_uri).get(None, {})
    b.accuracy = overall.get(("sparse_categorical_accuracy", "candidate", False, None))
    b.baseline_accuracy = overall.get(("sparse_categorical_accuracy", "baseline", False, None))
    b.accuracy_change = overall.get(("sparse_categorical_accuracy", "candidate", True, None))
    validation = tfma.load_validation_result(evaluation_uri)
    b.validation_ok = bool(validation.validation_ok)
    for per_slice in validation.metric_validations_per_slice:
        keys = per_slice.slice_key.single_slice_keys
        where = "overall"
        if keys:  # a failure on a label slice (only if a config puts thresholds there)
            class_id = int(keys[0].int64_value)
            where = f"slice {keys[0].column}={class_id} ({label_of(report.class_names, class_id)})"
        for f in per_slice.failures:
            value = f.metric_value.double_value.value if f.metric_value.HasField("double_value") else None
            threshold = f.metric_threshold
            bound = ""
            if threshold.HasField("value_threshold") and threshold.value_threshold.HasField("lower_bound"):
                bound = f" < lower bound {threshold.value_threshold.lower_bound.value:.4f}"
            shown = f"{value:.4f}" if value is not None else str(f.metric_value).strip()
            b.failures.append(f"{f.metric_key.name}{' change' if f.metric_key.is_diff else ''} on {where}: "
                              f"{shown}{bound}{(' - ' + f.message) if f.message else ''}")
    if blessing is None:
        return
    b.blessed = bool(custom_property(blessing, "blessed"))
    b.candidate_model = custom_property(blessing, "current_model")
    b.baseline_model = custom_property(blessing, "baseline_model")
    pusher = lineage.newest_consumer(blessing)
    pushed = None
    if pusher is not None:
        pushed = (lineage.io(pusher.id)[1].get("pushed_model") or [None])[0]
    pushed = pushed or results.latest_artifact(store, "PushedModel", pipeline_name)
    if pushed is not None:
        b.pushed = bool(custom_property(pushed, "pushed"))
        b.already_served = bool(custom_property(pushed, "already_served"))
        b.pushed_version = custom_property(pushed, "pushed_version")
        b.pushed_dir = custom_property(pushed, "pushed_destination")


def _data(report: ReportData, data_dir: Optional[str]) -> None:
    import contract

    d = report.data
    if not data_dir:
        raise FileNotFoundError("the ExampleGen execution names no input_base")
    summary = contract.read_summary(data_dir)
    if not summary:
        raise FileNotFoundError(f"{os.path.join(data_dir, contract.SUMMARY_FILE)} not found")
    d.description = summary.get("description", "")
    d.generated = bool(summary.get("generated"))
    d.counts = {split: {c: int(n) for c, n in per.items()} for split, per in summary.get("counts", {}).items()}
    d.skipped = {reason: int(n) for reason, n in (summary.get("skipped") or {}).items()}
    d.warnings = list(summary.get("warnings", []))


def _tuning(report: ReportData, trainer_inputs, lineage: _Lineage) -> None:
    hyperparameters = (trainer_inputs.get("hyperparameters") or [None])[0]
    if hyperparameters is None:
        return  # report.tuning stays None: no tuning in this run
    tuning = Tuning()
    best_file = os.path.join(hyperparameters.uri, "best_hyperparameters.txt")
    if os.path.isfile(best_file):
        with open(best_file, encoding="utf-8") as f:
            best = json.load(f)
        tuning.best_hyperparameters = dict(best.get("values", best))
    tuner = lineage.producer(hyperparameters)
    node_dir = os.path.dirname(os.path.dirname(hyperparameters.uri.rstrip("/")))
    tuning.trials = read_trials(node_dir)
    tuning.source = node_dir
    if not tuning.trials and tuner is not None:
        results_artifact = (lineage.io(tuner.id)[1].get("tuner_results") or [None])[0]
        path = os.path.join(results_artifact.uri, "tuner_results.json") if results_artifact else ""
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                rows = json.load(f)
            tuning.trials = [{"trial_id": str(r.pop("trial_id", "")), "status": "COMPLETED",
                              "score": r.pop("score", None), "values": r} for r in rows]
            tuning.source = path
    report.tuning = tuning


def read_trials(search_dir: str, project: str = TUNER_PROJECT) -> List[dict]:
    """KerasTuner trial_*/trial.json files under `search_dir` (hidden .system dirs included)."""
    projects = []
    for root, dirs, _ in os.walk(search_dir):
        if os.path.basename(root) == project:
            projects.append(root)
            dirs[:] = []
    if not projects:
        return []
    newest = max(projects, key=os.path.getmtime)
    trials = []
    for path in sorted(glob.glob(os.path.join(newest, "trial_*", "trial.json"))):
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        metrics = {}
        for name, metric in (state.get("metrics") or {}).get("metrics", {}).items():
            observations = metric.get("observations") or []
            if observations:
                value = observations[-1].get("value")
                metrics[name] = value[0] if isinstance(value, list) and value else value
        trials.append({
            "trial_id": str(state.get("trial_id", "")),
            "status": state.get("status", ""),
            "score": state.get("score"),
            "best_step": state.get("best_step"),
            "values": dict((state.get("hyperparameters") or {}).get("values", {})),
            "metrics": metrics,
        })
    return trials


def _read_examples(paths: List[str], limit: int):
    import tensorflow as tf

    from contract import record_dataset

    images, labels = [], []
    for record in record_dataset(paths).take(limit):
        example = tf.train.Example.FromString(record.numpy())
        features = example.features.feature
        images.append(features["image"].bytes_list.value[0])
        labels.append(int(features["label"].int64_list.value[0]))
    return images, labels


def _predictions(report: ReportData, examples, data_dir: Optional[str], max_images: int) -> None:
    import tensorflow as tf

    paths = []
    if examples is not None:
        paths = sorted(glob.glob(os.path.join(examples.uri, "Split-eval", "*.gz")))
    source = os.path.join(examples.uri, "Split-eval") if paths else ""
    if not paths and data_dir:
        paths = sorted(glob.glob(os.path.join(data_dir, "eval", "*.tfrecord.gz")))
        source = os.path.join(data_dir, "eval")
    if not paths:
        raise FileNotFoundError("no eval records found (ExampleGen Split-eval or <data>/eval)")
    if not report.model_dir or not os.path.isdir(report.model_dir):
        raise FileNotFoundError(f"no exported model at {report.model_dir}")
    images, labels = _read_examples(paths, max_images)
    model = tf.saved_model.load(report.model_dir)
    serve = model.signatures["serving_default"]
    input_name = list(serve.structured_input_signature[1].keys())[0]
    chunks = []
    for start in range(0, len(images), 32):
        batch = tf.constant(images[start:start + 32], dtype=tf.string)
        chunks.append(serve(**{input_name: batch})["probabilities"].numpy())
    probabilities = np.concatenate(chunks) if chunks else np.zeros((0, len(report.class_names)))
    report.predictions = Predictions(images=images, labels=labels, probabilities=probabilities,
                                     model_dir=report.model_dir, examples_source=source, limit=max_images)


def finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
