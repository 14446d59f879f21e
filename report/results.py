"""What a run produced, read back from MLMD and the artifacts: pushed model, accuracy, blessing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2


@dataclass
class RunOutcome:
    blessed: Optional[bool] = None
    pushed: bool = False
    already_served: bool = False
    pushed_dir: Optional[str] = None
    pushed_version: Optional[str] = None
    accuracy: Optional[float] = None
    example_count: Optional[int] = None
    model_dir: Optional[str] = None
    evaluation_dir: Optional[str] = None
    model_run_dir: Optional[str] = None
    failed_thresholds: list = field(default_factory=list)
    infra_blessed: Optional[bool] = None  # the candidate loaded and answered as a model server would
    infra_reason: Optional[str] = None
    per_class: Dict[str, dict] = field(default_factory=dict)
    # ExampleValidator's findings per split: feature -> short description.
    data_anomalies: Dict[str, Dict[str, str]] = field(default_factory=dict)


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    """The run's MLMD store, read-only."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def latest_artifact(store, type_name: str, pipeline_name: str, node_id: Optional[str] = None):
    """Newest artifact of a type produced in this pipeline, or by one of its nodes (cached runs reuse old ones)."""
    try:
        context = (store.get_context_by_type_and_name("node", f"{pipeline_name}.{node_id}") if node_id
                   else store.get_context_by_type_and_name("pipeline", pipeline_name))
        artifacts = store.get_artifacts_by_context(context.id) if context else store.get_artifacts_by_type(type_name)
    except Exception:  # noqa: BLE001 - an empty store has no types yet
        return None
    types = {t.id: t.name for t in store.get_artifact_types()}
    candidates = [a for a in artifacts if types.get(a.type_id) == type_name
                  and a.state == metadata_store_pb2.Artifact.LIVE]
    return max(candidates, key=lambda a: a.id) if candidates else None


def custom_property(execution_or_artifact, name: str):
    """A custom property's value (TFX keeps exec properties and Pusher/Evaluator results there), or None."""
    if name not in execution_or_artifact.custom_properties:
        return None
    value = execution_or_artifact.custom_properties[name]
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def label_of(class_names, class_id: int) -> str:
    return class_names[class_id] if class_names and 0 <= class_id < len(class_names) else str(class_id)


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
        outcome.evaluation_dir = evaluation.uri
        _read_metrics(outcome, evaluation.uri, class_names)
    return outcome


def metric_values(evaluation_uri: str):
    """{slice: {(name, model, is_diff, class_id): value}}, slice None = overall, else the label id."""
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
            model = "baseline" if key.model_name == "baseline" else "candidate"
            values[(key.name, model, bool(key.is_diff), class_id)] = kv.value.double_value.value
        by_slice[slice_id] = values
    return by_slice


def candidate_summary(overall: dict, class_names):
    """(accuracy, example_count, {class: {precision, recall}}) of the candidate, overall slice."""
    accuracy = overall.get(("sparse_categorical_accuracy", "candidate", False, None))
    count = overall.get(("example_count", "candidate", False, None))
    per_class = {}
    for (name, model, is_diff, class_id), value in overall.items():
        if model == "candidate" and not is_diff and class_id is not None and name in ("precision", "recall"):
            per_class.setdefault(label_of(class_names, class_id), {})[name] = value
    return accuracy, (int(count) if count is not None else None), per_class


def _read_metrics(outcome: RunOutcome, evaluation_uri: str, class_names) -> None:
    import tensorflow_model_analysis as tfma

    outcome.accuracy, outcome.example_count, outcome.per_class = candidate_summary(
        metric_values(evaluation_uri).get(None, {}), class_names)
    validation = tfma.load_validation_result(evaluation_uri)
    for failure in validation.metric_validations_per_slice:
        for f in failure.failures:
            outcome.failed_thresholds.append(
                f"{f.metric_key.name}{' change' if f.metric_key.is_diff else ''}: {f.message or f.metric_value}")


def read_anomalies(anomalies_uri: str) -> Dict[str, Dict[str, str]]:
    """{split: {feature: description}} from ExampleValidator's Split-*/SchemaDiff.pb files."""
    import glob

    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = {}
    for path in sorted(glob.glob(os.path.join(anomalies_uri, "Split-*", "SchemaDiff.pb"))):
        split = os.path.basename(os.path.dirname(path))[len("Split-"):]
        proto = anomalies_pb2.Anomalies()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
        found[split] = {feature: (info.short_description or info.description)
                        for feature, info in proto.anomaly_info.items()}
    return found
