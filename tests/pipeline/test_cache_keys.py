"""Each component re-runs only when its own inputs change: a new --epochs re-runs Trainer,
Evaluator and Pusher, and nothing upstream (read from MLMD).

Runs on a copy of the shared e2e run's metadata store, so the e2e workspace's own history
(and its cached-rerun test) is untouched whatever order the tests run in. The copy's
execution ids start far above the original's: new outputs land in fresh folders of the
same pipeline root (the root must stay the same: the user-code wheel's path is part of
Transform's and Trainer's cache key).
"""

import dataclasses
import glob
import os
import shutil
import sqlite3

import pytest

pytestmark = pytest.mark.e2e

ID_OFFSET = 1_000_000
UPSTREAM = {"ImportExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "ClassNamesCheck",
            "Transform", "Tuner"}
DOWNSTREAM = {"Trainer", "Evaluator", "SavedModelInfraValidator", "IdempotentPusher", "LiteExport", "LitePusher"}
RESOLVER = "latest_blessed_model_resolver"  # resolves afresh on every run, never cached


def _copy_store(source: str, target: str) -> None:
    shutil.copyfile(source, target)
    with sqlite3.connect(target) as db:
        db.execute("UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'Execution'", (ID_OFFSET,))


def _node_states_of_latest_run(store_path: str, pipeline_name: str):
    """{node id: 'ran' | 'cached'} for the newest pipeline run in the store."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = store_path
    store = metadata_store.MetadataStore(config)
    latest_run = max(store.get_contexts_by_type("pipeline_run"), key=lambda c: c.create_time_since_epoch)
    states = {}
    for node in store.get_contexts_by_type("node"):
        if not node.name.startswith(pipeline_name + "."):
            continue
        node_executions = {e.id for e in store.get_executions_by_context(node.id)}
        for execution in store.get_executions_by_context(latest_run.id):
            if execution.id in node_executions:
                state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
                states[node.name[len(pipeline_name) + 1:]] = {"COMPLETE": "ran", "CACHED": "cached"}.get(state, state)
    return states


def test_changing_epochs_reruns_only_trainer_evaluator_pusher(first_pipeline_run, tmp_path):
    from tfx import v1 as tfx

    from cli.run import prepare_data, stage_schema
    from pipeline.dag import create_pipeline

    first = first_pipeline_run.config
    config = dataclasses.replace(first, epochs=first.epochs + 1, serving_dir=str(tmp_path / "serving"))
    store_path = str(tmp_path / "metadata.sqlite")
    _copy_store(os.path.abspath(first.metadata_path), store_path)
    data_dir, class_names, description = prepare_data(config)
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(store_path)
    pipeline = create_pipeline(config, data_dir, class_names, description, metadata_connection_config=connection,
                               schema_file=stage_schema(config, class_names))  # as `snout run` does
    try:
        tfx.orchestration.LocalDagRunner().run(pipeline)
        states = _node_states_of_latest_run(store_path, config.pipeline_name)
    finally:  # the copy's outputs, in the shared pipeline root
        for folder in glob.glob(os.path.join(first.pipeline_root, "*", "*", "*")):
            if os.path.basename(folder).isdigit() and int(os.path.basename(folder)) >= ID_OFFSET:
                shutil.rmtree(folder, ignore_errors=True)
    assert {node for node, state in states.items() if state == "ran"} - {RESOLVER} == DOWNSTREAM, states
    assert {node for node, state in states.items() if state == "cached"} == UPSTREAM, states
