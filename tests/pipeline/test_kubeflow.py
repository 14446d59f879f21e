"""`snout compile-kubeflow`: the DAG of pipeline/dag.py compiled with KubeflowV2DagRunner.

Compiles into tmp_path (no cluster, no Docker) and checks the spec: tasks and their
dependencies, image, pipeline root, GPU/CPU/memory requests, Beam args, no local code paths.
"""

import argparse
import json

import pytest
import yaml

from cli import compile_kubeflow
from pipeline import kubeflow_runner
from contract.errors import UserError

IMAGE = "eu.gcr.io/proj/snout:0.1.0"
ROOT = "gs://snout-bucket/root"
DATA = "gs://snout-bucket/data"
BASE_TASKS = {"ImportExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer",
              "Evaluator", "IdempotentPusher"}
RESOLVER = "latest_blessed_model_resolver"


def _parse(argv):
    parser = argparse.ArgumentParser(prog="snout")
    compile_kubeflow.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["compile-kubeflow", *argv])


def _compile(tmp_path, name, *extra):
    output = str(tmp_path / name)
    args = _parse(["--image", IMAGE, "--pipeline-root", ROOT, "--data", DATA, "--classes", "cat,dog",
                   "--output", output, *extra])
    assert args.func(args) == 0
    return output


def _tasks(spec):
    return spec["root"]["dag"]["tasks"]


def _container(spec, task):
    executor = spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]
    return spec["deploymentSpec"]["executors"][spec["components"][executor]["executorLabel"]]["container"]


def _param(spec, task, name):
    return _tasks(spec)[task]["inputs"]["parameters"][name]["runtimeValue"]["constantValue"]


@pytest.fixture(scope="module")
def vertex_job(tmp_path_factory):
    """--tune, Dataflow Beam profile, 2 GPUs and CPU/memory for training, JSON (Vertex PipelineJob)."""
    path = _compile(tmp_path_factory.mktemp("kf_json"), "snout.json", "--tune", "--gpus", "2",
                    "--train-cpu", "8", "--train-memory-gb", "32", "--component-cpu", "4",
                    "--beam-profile", "dataflow", "--beam-project", "proj", "--beam-region", "europe-west1",
                    "--beam-arg=--max_num_workers=5", "--epochs", "7")
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def kfp_spec(tmp_path_factory):
    """Defaults: no Tuner, local (DirectRunner) Beam profile, 1 GPU, YAML (Kubeflow Pipelines)."""
    path = _compile(tmp_path_factory.mktemp("kf_yaml"), "snout.yaml")
    with open(path) as f:
        return yaml.safe_load(f)


def test_yaml_spec_has_every_component_and_its_dependencies(kfp_spec):
    tasks = _tasks(kfp_spec)
    assert BASE_TASKS <= set(tasks) and "Tuner" not in tasks
    assert set(tasks) - BASE_TASKS == {t for t in tasks if t.startswith(RESOLVER)}
    deps = {name: set(task.get("dependentTasks", [])) for name, task in tasks.items()}
    assert deps["ImportExampleGen"] == set()
    assert deps["StatisticsGen"] == {"ImportExampleGen"}
    assert deps["SchemaGen"] == {"StatisticsGen"}
    assert deps["ExampleValidator"] == {"StatisticsGen", "SchemaGen"}
    assert deps["Transform"] == {"ImportExampleGen", "SchemaGen"}
    assert deps["Trainer"] == {"ImportExampleGen", "Transform", "SchemaGen"}  # raw records + Transform's graph
    # TFX compiles the Resolver node into one task per resolved channel (model, model_blessing).
    assert {t for t in tasks if t.startswith(RESOLVER)} == {f"{RESOLVER}-model-resolver",
                                                            f"{RESOLVER}-model-blessing-resolver"}
    assert deps["Evaluator"] == {"ImportExampleGen", "Trainer", f"{RESOLVER}-model-resolver"}
    assert deps["IdempotentPusher"] == {"Evaluator", "Trainer"}


def test_json_job_with_tuner(vertex_job):
    tasks = _tasks(vertex_job["pipelineSpec"])
    assert BASE_TASKS | {"Tuner"} <= set(tasks)
    assert set(tasks["Tuner"]["dependentTasks"]) == {"ImportExampleGen", "Transform"}
    assert set(tasks["Trainer"]["dependentTasks"]) == {"ImportExampleGen", "Transform", "SchemaGen", "Tuner"}


def test_image_and_pipeline_root_as_configured(vertex_job, kfp_spec):
    for spec in (vertex_job["pipelineSpec"], kfp_spec):
        assert spec["defaultPipelineRoot"] == ROOT
        for task in _tasks(spec):
            if task.startswith(RESOLVER):
                continue
            assert _container(spec, task)["image"] == IMAGE, task
    assert vertex_job["runtimeConfig"]["gcsOutputDirectory"] == ROOT


def test_training_resources(vertex_job, kfp_spec):
    spec = vertex_job["pipelineSpec"]
    for task in ("Trainer", "Tuner"):
        resources = _container(spec, task)["resources"]
        assert resources["accelerator"] == {"type": "nvidia.com/gpu", "count": "2"}
        assert resources["cpuRequest"] == resources["cpuLimit"] == 8
        assert resources["memoryRequest"] == resources["memoryLimit"] == 32
    transform = _container(spec, "Transform")["resources"]
    assert transform["cpuRequest"] == 4 and "accelerator" not in transform
    assert _container(kfp_spec, "Trainer")["resources"]["accelerator"] == {"type": "nvidia.com/gpu", "count": "1"}
    assert "resources" not in _container(kfp_spec, "Transform")


def test_beam_args_carried_into_the_executors(vertex_job, kfp_spec):
    spec = vertex_job["pipelineSpec"]
    for task in ("ImportExampleGen", "StatisticsGen", "Transform", "Evaluator"):
        args = _container(spec, task)["args"]
        for expected in ("--runner=DataflowRunner", "--project=proj", "--region=europe-west1",
                         f"--temp_location={ROOT}/beam-tmp", f"--sdk_container_image={IMAGE}",
                         "--experiments=use_runner_v2", "--max_num_workers=5"):
            assert expected in args, (task, expected)
    # Local profile: DirectRunner in the pod, worker count left to Beam (0: the pod's cores).
    args = _container(kfp_spec, "Transform")["args"]
    assert "--direct_running_mode=multi_processing" in args and "--direct_num_workers=0" in args


def test_code_comes_from_the_image_not_local_paths(vertex_job):
    spec = vertex_job["pipelineSpec"]
    assert _param(spec, "Transform", "preprocessing_fn") == {"stringValue": "trainer.module.preprocessing_fn"}
    assert _param(spec, "Trainer", "run_fn") == {"stringValue": "trainer.module.run_fn"}
    assert _param(spec, "Tuner", "tuner_fn") == {"stringValue": "trainer.module.tuner_fn"}
    text = json.dumps(vertex_job)
    for local in ("module_file", "module_path", ".whl", "_wheels", "/work/", "/tmp/", "file://"):
        assert local not in text, local


def test_data_model_settings_and_push_destination(vertex_job):
    spec = vertex_job["pipelineSpec"]
    assert _param(spec, "ImportExampleGen", "input_base") == {"stringValue": DATA}
    custom = json.loads(_param(spec, "Trainer", "custom_config")["stringValue"])
    assert custom["class_names"] == ["cat", "dog"] and custom["epochs"] == 7
    push = json.loads(_param(spec, "IdempotentPusher", "push_destination")["stringValue"])
    assert push["filesystem"]["base_directory"] == f"{ROOT}/serving/snout"


def test_class_names_read_from_labels_txt(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("cat\ndog\nfox\n")
    kf = kubeflow_runner.KubeflowConfig(image=IMAGE, pipeline_root=ROOT, data=f"file://{data}")
    assert kubeflow_runner.dataset_info(kf)[0] == ["cat", "dog", "fox"]
    missing = kubeflow_runner.KubeflowConfig(image=IMAGE, pipeline_root=ROOT, data=f"file://{tmp_path}/none")
    with pytest.raises(UserError, match="--classes"):
        kubeflow_runner.dataset_info(missing)


@pytest.mark.parametrize("argv, message", [
    (["--pipeline-root", "/local/root", "--data", DATA], "--pipeline-root /local/root"),
    (["--pipeline-root", ROOT, "--data", "/local/data"], "--data /local/data"),
    (["--pipeline-root", ROOT], "--data is required"),
    (["--pipeline-root", ROOT, "--data", DATA, "--weights", "/x.h5"], "--weights"),
    (["--pipeline-root", ROOT, "--data", DATA, "--beam-profile", "flink"], "job_endpoint"),
])
def test_bad_settings_are_one_line_user_errors(argv, message):
    args = _parse(["--image", IMAGE, "--classes", "cat,dog", *argv])
    with pytest.raises(UserError, match=message):
        snout_config, kf = compile_kubeflow.configs_from_args(args)
        kf.beam_pipeline_args(snout_config)


def test_local_runs_keep_the_module_file(tmp_path):
    """`snout run` is unchanged: module_file given -> no function paths."""
    from pipeline.config import SnoutConfig
    from pipeline.dag import MODULE_FILE, create_pipeline

    pipeline = create_pipeline(SnoutConfig(workspace=str(tmp_path)), str(tmp_path), ["a", "b"], "d")
    transform = next(c for c in pipeline.components if c.id == "Transform")
    assert transform.exec_properties["module_file"] == MODULE_FILE
    assert transform.exec_properties.get("preprocessing_fn") is None
    assert pipeline.pipeline_info.pipeline_root == str(tmp_path / "pipeline_root")


def test_function_paths_resolve_in_the_installed_package():
    """What the containers import instead of a module file must exist."""
    import importlib

    from pipeline.dag import FUNCTION_PATHS

    for name, path in FUNCTION_PATHS.items():
        module, attr = path.rsplit(".", 1)
        assert attr == name and callable(getattr(importlib.import_module(module), attr)), path
