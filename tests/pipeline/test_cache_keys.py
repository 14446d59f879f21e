"""Each component re-runs only when its own inputs change: a new --epochs re-runs Trainer,
Evaluator and Pusher, and nothing upstream (read from MLMD).

Runs on a copy of the shared e2e run's metadata store, so the e2e workspace's own history
(and its cached-rerun test) is untouched whatever order the tests run in. The copy's
execution ids start far above the original's: new outputs land in fresh folders of the
same pipeline root (the root must stay the same: the user-code wheel's path is part of
Transform's and Trainer's cache key).
"""

import dataclasses
import os

import pytest

from tests.fixtures.pipeline import copy_store, node_states_of_latest_run, remove_outputs_from, run_on_store

pytestmark = pytest.mark.e2e

ID_OFFSET = 1_000_000
UPSTREAM = {"ImportExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "ClassNamesCheck",
            "Transform", "Embeddings", "DataAudit", "Tuner"}  # the shared features' key holds no training setting
DOWNSTREAM = {"Trainer", "Evaluator", "SavedModelInfraValidator", "IdempotentPusher", "LiteExport", "LitePusher"}
RESOLVER = "latest_blessed_model_resolver"  # resolves afresh on every run, never cached


def test_changing_epochs_reruns_only_trainer_evaluator_pusher(first_pipeline_run, tmp_path):
    first = first_pipeline_run.config
    config = dataclasses.replace(first, epochs=first.epochs + 1, serving_dir=str(tmp_path / "serving"))
    store_path = str(tmp_path / "metadata.sqlite")
    copy_store(os.path.abspath(first.metadata_path), store_path, ID_OFFSET)
    try:
        run_on_store(config, store_path)  # as `snout run` does
        states = node_states_of_latest_run(store_path, config.pipeline_name)
    finally:  # the copy's outputs, in the shared pipeline root
        remove_outputs_from(first.pipeline_root, ID_OFFSET)
    assert {node for node, state in states.items() if state == "ran"} - {RESOLVER} == DOWNSTREAM, states
    assert {node for node, state in states.items() if state == "cached"} == UPSTREAM, states
