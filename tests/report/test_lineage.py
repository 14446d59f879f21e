"""report/lineage.py on a real MLMD store: an artifact recorded under two input keys in one event."""

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from report.lineage import Lineage


def test_an_event_naming_two_keys_counts_under_both(tmp_path):
    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "metadata.sqlite")
    store = metadata_store.MetadataStore(config)
    model_type = store.put_artifact_type(pb.ArtifactType(name="Model"))
    [model] = store.put_artifacts([pb.Artifact(type_id=model_type, uri="/m/9")])
    evaluator_type = store.put_execution_type(pb.ExecutionType(name="Evaluator"))
    [evaluator] = store.put_executions([pb.Execution(type_id=evaluator_type)])
    # As TFX records a rerun's Evaluator, whose candidate is also its baseline: the baseline key first.
    event = pb.Event(artifact_id=model, execution_id=evaluator, type=pb.Event.INPUT)
    event.path.steps.add().key = "baseline_model"
    event.path.steps.add().key = "model"
    store.put_events([event])
    inputs, outputs = Lineage(store).io(evaluator)
    assert [a.id for a in inputs["model"]] == [a.id for a in inputs["baseline_model"]] == [model]
    assert not outputs
