"""The `--target kfp` spec EXECUTED, task by task (tests/fixtures/kfp_local.py): each container task
runs its compiled command and arguments (TFX's v2 container entrypoint) in a process of its own, with the
project's environment standing in for the snout image; the importer imports. This catches what
parsing the spec cannot: entrypoint arguments, the user code the containers import, snout's custom
executors under the v2 entrypoint, artifact metadata passed between tasks.

Compiled as a user would, except: local paths (compile_pipeline's internal local_paths), no GPU,
Beam in-process in each task (--beam-mode in_memory: the multi-process default would start Beam
worker processes in every task), and one stand-in: the InfraValidator task runs the spec's executor
with `snout serve` on loopback where the cluster would start a TF Serving pod
(tests/fixtures/kfp_infra_stand_in.py). A second execution, changed only in the Evaluator's
settings, reuses every other task from KFP's cache and finds the model the first one served.
"""

from __future__ import annotations

import json
import os

import pytest

import contract
from pipeline.beam_options import BeamOptions
from pipeline.config import SnoutConfig
from pipeline.kubeflow_runner import KubeflowConfig, compile_pipeline
from tests.fixtures import kfp_infra_stand_in
from tests.fixtures.beam_worker_pool import project_env
from tests.fixtures.kfp_local import LocalPipelineRun, load_spec

pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TASKS = {"ImportExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "ClassNamesCheck", "Transform",
         "Embeddings", "DataAudit", "hyperparameters_importer", "Trainer", "Evaluator", "InfraValidator",
         "IdempotentPusher"}


def _compile(tmp_path, data_dir: str, hyperparameters: str, **settings) -> str:
    # No edge export: its custom types' import in the entrypoint is checked by test_kubeflow.py, and the
    # conversion would add a minute to the suite's budget.
    config = SnoutConfig(image_size=64, epochs=1, fine_tune_epochs=0, hyperparameters=hyperparameters,
                         beam=BeamOptions(mode="in_memory", workers=1), lite_export=False, **settings)
    output = str(tmp_path / f"spec-{len(os.listdir(tmp_path))}.yaml")
    kf = KubeflowConfig(image="snout:local", pipeline_root=str(tmp_path / "root"), data=data_dir,
                        serving_dir=str(tmp_path / "serving"), output=output, gpus=0)
    return compile_pipeline(config, kf, local_paths=True)


def _execute(tmp_path, spec_path: str, run_name: str) -> LocalPipelineRun:
    # KFP 2 gives every pod its namespace as NAMESPACE (the InfraValidator executor reads it). A pod's /tmp goes
    # with the pod: here the tasks' temporary files (TFX's 49 MB ephemeral sdist per Beam task) go with tmp_path.
    temp = tmp_path / "task_tmp"
    temp.mkdir(exist_ok=True)
    env = project_env(PYTHONPATH=REPO, NAMESPACE="kubeflow", TF_CPP_MIN_LOG_LEVEL="2", TMPDIR=str(temp))
    return LocalPipelineRun(load_spec(spec_path), str(tmp_path / "root"), run_name, env, str(tmp_path / "cache"),
                            substitutes={kfp_infra_stand_in.REPLACED: kfp_infra_stand_in.STAND_IN}).run()


def _gate(run: LocalPipelineRun) -> dict:
    with open(os.path.join(run.outputs["Evaluator"]["evaluation"].uri, contract.evaluation.GATE_FILE)) as f:
        return json.load(f)


def _versions(tmp_path):
    return sorted(v for v in os.listdir(tmp_path / "serving" / "snout") if v.isdigit())


def test_kfp_spec_executed_task_by_task_blesses_pushes_and_then_finds_the_served_model(tmp_path):
    import sample_data

    data_dir = str(tmp_path / "data")
    sample_data.generate(data_dir, images_per_class=10)
    hyperparameters = tmp_path / "hyperparameters"
    hyperparameters.mkdir()
    (hyperparameters / "best_hyperparameters.txt").write_text('{"space": [], "values": {"learning_rate": 0.003}}')

    first = _execute(tmp_path, _compile(tmp_path, data_dir, str(hyperparameters), min_accuracy=0.0), "run-1")
    assert set(first.ran) == TASKS and not first.cached
    assert _gate(first)["blessed"] and _gate(first)["baseline"]["skipped"].startswith("no model is served")
    infra = first.outputs["InfraValidator"]["blessing"]
    assert os.path.isfile(os.path.join(infra.uri, "INFRA_BLESSED"))
    (version,) = _versions(tmp_path)
    pushed = tmp_path / "serving" / "snout" / version
    # The Pusher pushed the InfraValidator's copy: the model plus the warm-up requests TFX built.
    assert (pushed / "assets.extra" / "tf_serving_warmup_requests").is_file()
    assert (pushed / "assets.extra" / contract.VOCABULARY_FILE).read_text().split() == ["cat", "dog"]

    # Only the Evaluator's settings change: KFP's cache serves every other task but the Pusher (new blessing).
    second = _execute(tmp_path, _compile(tmp_path, data_dir, str(hyperparameters), min_accuracy=0.01,
                                         max_accuracy_drop=1.0), "run-2")
    assert set(second.ran) == {"hyperparameters_importer", "Evaluator", "IdempotentPusher"}, second.ran
    baseline = _gate(second)["baseline"]
    assert baseline["source"] == "served" and baseline["version"] == version and "skipped" not in baseline
    assert _gate(second)["blessed"]
    assert second.outputs["IdempotentPusher"]["pushed_model"].metadata["already_served"] == 1
    assert _versions(tmp_path) == [version]  # the same model is not pushed twice
