"""`snout compile-kubeflow`: the DAG of pipeline/dag.py compiled with KubeflowV2DagRunner.

Compiles into tmp_path (no cluster, no Docker) and checks the spec: tasks and their
dependencies, executor kinds per target (parsed with kfp's own pipeline_spec_pb2), image,
pipeline root, GPU/CPU/memory requests, Beam args, infra validation, no local code paths.
"""

import argparse
import json
import re

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from cli import compile_kubeflow
from pipeline import kubeflow_runner
from contract.errors import UserError

IMAGE = "eu.gcr.io/proj/snout:0.1.0"
ROOT = "gs://snout-bucket/root"
DATA = "gs://snout-bucket/data"
HYPERPARAMETERS = "gs://snout-bucket/tuning/best_hyperparameters"
BASE_TASKS = {"ImportExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "ClassNamesCheck", "Transform",
              "Trainer", "Evaluator", "IdempotentPusher", "LiteExport", "LitePusher", "Embeddings", "DataAudit"}
RESOLVER = "latest_blessed_model_resolver"
KFP_INFRA, VERTEX_INFRA = "InfraValidator", "SavedModelInfraValidator"


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
    """A task's constant parameter as a plain value: schema 2.1 (kfp) `constant`, 2.0 (vertex) `constantValue`."""
    value = _tasks(spec)[task]["inputs"]["parameters"][name]["runtimeValue"]
    if "constant" in value:
        return value["constant"]
    (old_style,) = value["constantValue"].values()
    return int(old_style) if "intValue" in value["constantValue"] else old_style


def _executor_kinds(spec_dict):
    """task -> executor kind (container, importer, resolver, ...), read the way KFP's backend reads it."""
    spec = json_format.ParseDict(spec_dict, pipeline_spec_pb2.PipelineSpec())
    deployment = json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec),
                                       pipeline_spec_pb2.PipelineDeploymentConfig())
    return {name: deployment.executors[spec.components[task.component_ref.name].executor_label].WhichOneof("spec")
            for name, task in spec.root.dag.tasks.items()}


@pytest.fixture(scope="module")
def vertex_job(tmp_path_factory):
    """--tune, Dataflow Beam profile, 2 GPUs and CPU/memory for training, JSON (Vertex PipelineJob)."""
    path = _compile(tmp_path_factory.mktemp("kf_json"), "snout.json", "--target", "vertex", "--tune", "--gpus", "2",
                    "--train-cpu", "8", "--train-memory-gb", "32", "--component-cpu", "4",
                    "--beam-profile", "dataflow", "--beam-project", "proj", "--beam-region", "europe-west1",
                    "--beam-arg=--max_num_workers=5", "--epochs", "7")
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def kfp_spec(tmp_path_factory):
    """Defaults (target kfp, no Tuner, local (DirectRunner) Beam profile, 1 GPU, YAML), imported hyperparameters."""
    path = _compile(tmp_path_factory.mktemp("kf_yaml"), "snout.yaml",
                    "--hyperparameters", f"{HYPERPARAMETERS}/best_hyperparameters.txt")
    with open(path) as f:
        return yaml.safe_load(f)


def _deps(spec):
    return {name: set(task.get("dependentTasks", [])) for name, task in _tasks(spec).items()}


def test_kfp_spec_has_every_component_and_its_dependencies(kfp_spec):
    tasks = _tasks(kfp_spec)
    assert set(tasks) == BASE_TASKS | {KFP_INFRA, "hyperparameters_importer"}  # no Resolver, no Tuner
    deps = _deps(kfp_spec)
    assert deps["ImportExampleGen"] == set()
    assert deps["StatisticsGen"] == {"ImportExampleGen"}
    assert deps["SchemaGen"] == {"StatisticsGen"}
    assert deps["ExampleValidator"] == {"StatisticsGen", "SchemaGen"}
    assert deps["ClassNamesCheck"] == {"ImportExampleGen"}
    # Nothing is transformed (or trained) before the data's anomalies and class names are checked.
    assert deps["Transform"] == {"ImportExampleGen", "SchemaGen", "ExampleValidator", "ClassNamesCheck"}
    assert deps["Trainer"] == {"ImportExampleGen", "Transform", "SchemaGen", "hyperparameters_importer",
                               "Embeddings"}  # raw records + graph + the shared features
    # The features once, through Transform's graph; the audit on them; the Evaluator's leak rule reads the audit.
    assert deps["Embeddings"] == {"ImportExampleGen", "Transform"}
    assert deps["DataAudit"] == {"ImportExampleGen", "Embeddings"}
    assert deps["Evaluator"] == {"ImportExampleGen", "Trainer", "DataAudit"}  # baseline: the served model
    assert deps[KFP_INFRA] == {"ImportExampleGen", "Trainer"}
    # The model pushed is the infra blessing's copy (with warm-up requests), gated on both blessings.
    pusher_inputs = tasks["IdempotentPusher"]["inputs"]["artifacts"]
    assert {k: v["taskOutputArtifact"]["producerTask"] for k, v in pusher_inputs.items()} == {
        "model_blessing": "Evaluator", "infra_blessing": KFP_INFRA}
    # The edge export converts the Trainer's model; its push waits for the SavedModel's version.
    assert deps["LiteExport"] == {"ImportExampleGen", "Trainer"}
    assert deps["LitePusher"] == {"IdempotentPusher", "LiteExport"}


def test_vertex_job_keeps_the_resolver_and_validates_in_process(vertex_job):
    spec = vertex_job["pipelineSpec"]
    # TFX compiles the Resolver node into one task per resolved channel (model, model_blessing).
    resolvers = {f"{RESOLVER}-model-resolver", f"{RESOLVER}-model-blessing-resolver"}
    assert set(_tasks(spec)) == BASE_TASKS | {"Tuner", VERTEX_INFRA} | resolvers
    deps = _deps(spec)
    assert deps["Tuner"] == {"ImportExampleGen", "Transform", "Embeddings"}
    assert deps["Trainer"] == {"ImportExampleGen", "Transform", "SchemaGen", "Tuner", "Embeddings"}
    assert deps["Evaluator"] == {"ImportExampleGen", "Trainer", f"{RESOLVER}-model-resolver", "DataAudit"}
    assert deps["IdempotentPusher"] == {"Evaluator", "Trainer", VERTEX_INFRA}
    assert set(_tasks(spec)["IdempotentPusher"]["inputs"]["artifacts"]) == {"model", "model_blessing",
                                                                            "infra_blessing"}
    assert deps["LitePusher"] == {"IdempotentPusher", "LiteExport"}  # the SavedModel's push never waits for it


def test_kfp_spec_is_schema_2_1_which_the_kfp_backend_reads(kfp_spec):
    """KFP 2's driver resolves only `constant` values, and TFX's entrypoint reads the executor input's
    parameterValues (all KFP 2 fills) only when given the inputs spec: both are schema 2.1."""
    assert kfp_spec["schemaVersion"] == "2.1.0"
    for name, task in _tasks(kfp_spec).items():
        for param in task.get("inputs", {}).get("parameters", {}).values():
            assert "constantValue" not in param.get("runtimeValue", {}), name
    for kind_task in ("Transform", "Evaluator"):
        assert "--json_serialized_inputs_spec_args" in _container(kfp_spec, kind_task)["args"]


def test_executor_kinds_per_target(kfp_spec, vertex_job):
    """Open-source KFP's backend runs only container and importer executors; Vertex AI runs resolvers too."""
    kfp_kinds = _executor_kinds(kfp_spec)
    assert set(kfp_kinds.values()) == {"container", "importer"}
    assert kfp_kinds["hyperparameters_importer"] == "importer"
    vertex_kinds = _executor_kinds(vertex_job["pipelineSpec"])
    assert set(vertex_kinds.values()) == {"container", "resolver"}
    assert {t for t, kind in vertex_kinds.items() if kind == "resolver"} == {t for t in vertex_kinds
                                                                             if t.startswith(RESOLVER)}


def test_kfp_infra_validation_is_tf_serving_2_16_on_kubernetes_with_warmup(kfp_spec):
    serving = json.loads(_param(kfp_spec, KFP_INFRA, "serving_spec"))
    assert serving["tensorflow_serving"] == {"image_name": "tensorflow/serving", "tags": ["2.16.1"]}
    assert "kubernetes" in serving and serving["model_name"] == "snout"
    request = json.loads(_param(kfp_spec, KFP_INFRA, "request_spec"))
    assert request["make_warmup"] is True
    assert request["tensorflow_serving"]["signature_names"] == ["serving_tf_example", "classification"]
    assert _container(kfp_spec, KFP_INFRA)["image"] == IMAGE


def test_remote_hyperparameters_are_imported_from_their_uri(kfp_spec):
    executor = _tasks(kfp_spec)["hyperparameters_importer"]["componentRef"]["name"]
    importer = kfp_spec["deploymentSpec"]["executors"][kfp_spec["components"][executor]["executorLabel"]]["importer"]
    # The file was given: the HyperParameters artifact is its folder.
    assert importer["artifactUri"] == {"constant": HYPERPARAMETERS}  # schema 2.1: what KFP's importer reads


def test_image_and_pipeline_root_as_configured(vertex_job, kfp_spec):
    for spec in (vertex_job["pipelineSpec"], kfp_spec):
        assert spec["defaultPipelineRoot"] == ROOT
        for task, kind in _executor_kinds(spec).items():
            if kind == "container":
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
    assert _param(spec, "Transform", "preprocessing_fn") == "trainer.module.preprocessing_fn"
    assert _param(spec, "Trainer", "run_fn") == "trainer.module.run_fn"
    assert _param(spec, "Tuner", "tuner_fn") == "trainer.module.tuner_fn"
    text = json.dumps(vertex_job)
    for local in ("module_file", "module_path", ".whl", "_wheels", "/work/", "/tmp/", "file://"):
        assert local not in text, local


def test_data_model_settings_and_push_destination(vertex_job):
    spec = vertex_job["pipelineSpec"]
    assert _param(spec, "ImportExampleGen", "input_base") == DATA
    custom = json.loads(_param(spec, "Trainer", "custom_config"))
    assert custom["class_names"] == ["cat", "dog"] and custom["epochs"] == 7
    push = json.loads(_param(spec, "IdempotentPusher", "push_destination"))
    assert push["filesystem"]["base_directory"] == f"{ROOT}/serving/snout"
    assert _param(spec, "LitePusher", "base_directory") == f"{ROOT}/serving/snout-lite"
    lite = json.loads(_param(spec, "LiteExport", "settings"))
    assert lite["max_accuracy_drop"] == 0.01 and lite["calibration_images"] == 200 and lite["split"] == "test"


def test_class_names_read_from_labels_txt_and_checked_against_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("cat\ndog\nfox\n")
    kf = kubeflow_runner.KubeflowConfig(image=IMAGE, pipeline_root=ROOT, data=f"file://{data}")
    assert kubeflow_runner.dataset_info(kf)[0] == ["cat", "dog", "fox"]
    kf.classes = ["cat", "dog", "fox"]
    assert kubeflow_runner.dataset_info(kf)[0] == ["cat", "dog", "fox"]
    kf.classes = ["dog", "cat", "fox"]
    with pytest.raises(UserError, match=r"--classes dog,cat,fox do not match .*labels.txt: the same classes in another"):
        kubeflow_runner.dataset_info(kf)
    kf.classes = ["cat", "dog"]
    with pytest.raises(UserError, match=r"--classes cat,dog do not match .*labels.txt: fox missing"):
        kubeflow_runner.dataset_info(kf)
    missing = kubeflow_runner.KubeflowConfig(image=IMAGE, pipeline_root=ROOT, data=f"file://{tmp_path}/none")
    with pytest.raises(UserError, match="--classes"):
        kubeflow_runner.dataset_info(missing)


def test_unverifiable_classes_are_checked_by_the_pipeline_at_run_time(kfp_spec):
    """gs://snout-bucket is unreadable here: --classes is compiled in, and ClassNamesCheck reads labels.txt
    on the cluster before Transform (components/vocabulary_check.py)."""
    assert _param(kfp_spec, "ClassNamesCheck", "data_uri") == DATA
    assert json.loads(_param(kfp_spec, "ClassNamesCheck", "class_names")) == ["cat", "dog"]


@pytest.mark.parametrize("argv, message", [
    (["--pipeline-root", "/local/root", "--data", DATA], "--pipeline-root /local/root"),
    (["--pipeline-root", ROOT, "--data", "/local/data"], "--data /local/data"),
    (["--pipeline-root", ROOT], "--data is required"),
    (["--pipeline-root", ROOT, "--data", DATA, "--weights", "/x.h5"], "--weights"),
    (["--pipeline-root", ROOT, "--data", DATA, "--beam-profile", "flink"], "job_endpoint"),
    (["--pipeline-root", ROOT, "--data", DATA, "--hyperparameters", "/tmp"], "--hyperparameters /tmp: the cluster"),
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


def test_custom_artifact_types_import_by_their_schema_title(kfp_spec):
    """TFX's v2 container entrypoint imports a non-tfx type by its title: it must resolve in the image."""
    from tfx.utils import import_utils
    schemas = re.findall(r'"instanceSchema": ("(?:[^"\\]|\\.)*")', json.dumps(kfp_spec))  # JSON string literals
    custom = {t for t in (yaml.safe_load(json.loads(schema))["title"] for schema in schemas) if not t.startswith("tfx.")}
    assert {"components.LiteModel", "components.LitePushedModel", "components.Embeddings",
            "components.DataAudit"} <= custom
    for title in custom:
        assert import_utils.import_class_by_path(title).TYPE_NAME == title
