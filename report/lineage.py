"""Reading the run's MLMD store: artifacts by type, custom properties, and lineage between them."""

from __future__ import annotations

from collections import defaultdict
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    """The run's MLMD store, read-only."""
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
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
    candidates = [a for a in artifacts if types.get(a.type_id) == type_name and a.state == pb.Artifact.LIVE]
    return max(candidates, key=lambda a: a.id) if candidates else None


def custom_property(execution_or_artifact, name: str):
    """A custom property's value (TFX keeps exec properties and Pusher/Evaluator results there), or None."""
    if name not in execution_or_artifact.custom_properties:
        return None
    value = execution_or_artifact.custom_properties[name]
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def event_keys(event):
    """The input/output keys an event names. One event per artifact and execution: a model that is both
    the Evaluator's candidate and its baseline (a rerun) has one event naming both keys, in either order."""
    return [step.key for step in event.path.steps if step.HasField("key")]


class Lineage:
    """Which execution wrote or read an artifact, and an execution's inputs and outputs."""

    def __init__(self, store):
        self.store = store

    def io(self, execution_id: int):
        """(inputs, outputs) of an execution: key -> [artifacts]."""
        events = self.store.get_events_by_execution_ids([execution_id])
        artifacts = {a.id: a for a in self.store.get_artifacts_by_id(list({e.artifact_id for e in events}))}
        inputs, outputs = defaultdict(list), defaultdict(list)
        for e in events:
            target = inputs if e.type in (pb.Event.INPUT, pb.Event.DECLARED_INPUT) else outputs
            for key in event_keys(e) or [""]:
                if e.artifact_id in artifacts:
                    target[key].append(artifacts[e.artifact_id])
        return inputs, outputs

    def _executions_by_event(self, artifact, kinds, newest: bool, key: Optional[str] = None):
        ids = [e.execution_id for e in self.store.get_events_by_artifact_ids([artifact.id]) if e.type in kinds
               and (key is None or key in event_keys(e))]
        if not ids:
            return None
        return self.store.get_executions_by_id([max(ids) if newest else min(ids)])[0]

    def producer(self, artifact):
        """The execution that first wrote `artifact` (cached reruns list it as output again)."""
        return self._executions_by_event(artifact, (pb.Event.OUTPUT, pb.Event.DECLARED_OUTPUT), newest=False)

    def newest_consumer(self, artifact, key: Optional[str] = None):
        """The newest execution that read `artifact` (as its input `key`, when given)."""
        return self._executions_by_event(artifact, (pb.Event.INPUT, pb.Event.DECLARED_INPUT), newest=True, key=key)

    def first_input(self, execution, key: str):
        return (self.io(execution.id)[0].get(key) or [None])[0] if execution is not None else None

    def first_output(self, execution, key: str):
        return (self.io(execution.id)[1].get(key) or [None])[0] if execution is not None else None
