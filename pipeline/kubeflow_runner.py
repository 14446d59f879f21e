"""The DAG of pipeline/dag.py compiled with KubeflowV2DagRunner
into a KFP v2 pipeline spec, for Kubeflow Pipelines (YAML) or Vertex AI Pipelines (JSON).

The same `create_pipeline` as `snout run`, with these differences that make it run on a
cluster: no module_file (Transform/Tuner/Trainer import `trainer.module.*` from the
snout container image instead of a wheel on the compiling machine's disk), no metadata
connection (the cluster's MLMD), and remote URIs for data, pipeline root and serving dir.
The DAG's ClassNamesCheck compares the spec's class names with <data>/labels.txt at run time.
Model and gate settings are the same flags as `snout run` (add_config_arguments).

Two targets (TARGETS): open-source Kubeflow Pipelines runs only container and importer
executors, so `kfp` has no Resolver (the Evaluator's baseline is the model being served) and
validates with TF Serving pods on the cluster; `vertex` keeps the Resolver and checks the model
in a fresh TensorFlow process (Vertex AI gives a component no Kubernetes API to start pods with).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import List, Optional

from pipeline.config import SnoutConfig
from contract.errors import UserError

# Components whose containers get the training resources (GPU, --train-cpu, --train-memory-gb).
TRAINING_COMPONENTS = ("Trainer", "Tuner")
DEFAULT_GPU_TYPE = "nvidia.com/gpu"
DEFAULT_OUTPUT = "snout_pipeline.yaml"
# target -> (Evaluator baseline, infra validation): see create_pipeline in pipeline/dag.py.
TARGETS = {"kfp": ("served", "kubernetes"), "vertex": ("resolver", "in_process")}


@dataclass
class KubeflowConfig:
    """Settings only a cluster run needs; the model/training/gate ones stay in SnoutConfig."""
    image: str                      # the snout image (deploy/Dockerfile), pushed to a registry
    pipeline_root: str              # gs://, s3://, minio:// ...: every component's outputs
    data: str                       # a `snout ingest` dataset at a remote URI (labels.txt, train/, validation/, test/)
    classes: Optional[List[str]] = None   # default: <data>/labels.txt, if readable from here
    serving_dir: Optional[str] = None     # where the Pusher writes <model>/<version>/; default <root>/serving
    output: str = DEFAULT_OUTPUT          # .yaml/.yml: PipelineSpec (KFP); .json: PipelineJob (Vertex)
    target: str = "kfp"                   # kfp: open-source Kubeflow Pipelines; vertex: Vertex AI Pipelines
    gpus: int = 1                         # per Trainer/Tuner container; 0: CPU only
    gpu_type: str = DEFAULT_GPU_TYPE      # Vertex wants e.g. NVIDIA_TESLA_T4
    train_cpu: Optional[float] = None     # vCPUs for Trainer/Tuner (request and limit)
    train_memory_gb: Optional[float] = None
    component_cpu: Optional[float] = None  # vCPUs for every other component (e.g. DirectRunner pods)
    component_memory_gb: Optional[float] = None

    def validate(self, local_paths: bool = False) -> None:
        """local_paths: only for executing the spec on this machine (tests/fixtures/kfp_local.py)."""
        for flag, value in (("--pipeline-root", self.pipeline_root), ("--data", self.data),
                            ("--serving-dir", self.serving_dir)):
            if value is not None and "://" not in value and not local_paths:
                raise UserError(f"{flag} {value}: a cluster cannot read the local disk of this machine; "
                                "give a remote URI such as gs://bucket/path or s3://bucket/path")
        if self.target not in TARGETS:
            raise UserError(f"--target {self.target}: choose one of {', '.join(TARGETS)}")
        if not self.image:
            raise UserError("--image is required: the snout image built from deploy/Dockerfile")
        if self.classes is not None and len(self.classes) < 2:
            raise UserError(f"--classes lists {len(self.classes)} class(es); a classifier needs at least 2")
        if self.gpus < 0:
            raise UserError("--gpus must be >= 0")
        for name in ("train_cpu", "train_memory_gb", "component_cpu", "component_memory_gb"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise UserError(f"--{name.replace('_', '-')} must be > 0")

    @property
    def resolved_serving_dir(self) -> str:
        return self.serving_dir or self.pipeline_root.rstrip("/") + "/serving"

    def beam_pipeline_args(self, snout_config: SnoutConfig) -> List[str]:
        """snout_config.beam (the Beam flags) with the cluster's defaults for what was not given."""
        root = self.pipeline_root.rstrip("/")
        # workers 0: Beam counts the cores of the pod at run time, not of this machine.
        return snout_config.beam.pipeline_args(
            "compile-kubeflow",
            workers=0, image=self.image, temp_location=f"{root}/beam-tmp" if root.startswith("gs://") else None)


def resource_spec(cpu: Optional[float] = None, memory_gb: Optional[float] = None, gpus: int = 0,
                  gpu_type: str = DEFAULT_GPU_TYPE):
    """A KFP v2 ResourceSpec (what `component.with_platform_config` takes on KubeflowV2DagRunner)."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec()
    if cpu:
        spec.cpu_request = spec.cpu_limit = float(cpu)
    if memory_gb:
        spec.memory_request = spec.memory_limit = float(memory_gb)
    if gpus:
        spec.accelerator.type = gpu_type
        spec.accelerator.count = int(gpus)
    return spec


def dataset_info(kf: KubeflowConfig):
    """(class_names, description): --classes, checked against <data>/labels.txt if it can be read from
    here (else only at run time, by ClassNamesCheck); without --classes, labels.txt itself."""
    import contract
    from tfx.dsl.io import fileio

    from components.vocabulary_check import read_vocabulary_uri

    base = kf.data.rstrip("/")
    description = f"dataset at {kf.data}"
    labels = f"{base}/{contract.VOCABULARY_FILE}"
    try:
        names = read_vocabulary_uri(base)
    except Exception as e:  # noqa: BLE001 - no credentials / no such file / no filesystem plugin
        if kf.classes:
            return list(kf.classes), description
        raise UserError(f"cannot read {labels} from here ({type(e).__name__}); "
                        "give the class names with --classes cat,dog") from None
    difference = contract.class_list_difference(kf.classes, names) if kf.classes else None
    if difference:
        raise UserError(f"--classes {','.join(kf.classes)} do not match {labels}: {difference}")
    if len(names) < 2:
        raise UserError(f"{labels} lists {len(names)} class(es); a classifier needs at least 2")
    try:
        summary_path = f"{base}/{contract.SUMMARY_FILE}"
        if fileio.exists(summary_path):
            with fileio.open(summary_path, "r") as f:
                description = json.loads(f.read()).get("description", description)
    except Exception:  # noqa: BLE001 - unreachable storage: keep the generic description
        pass
    return names, description


def build_pipeline(snout_config: SnoutConfig, kf: KubeflowConfig, local_paths: bool = False):
    """The TFX pipeline object for Kubeflow: pipeline/dag.py's DAG plus container resources."""
    from tfx.dsl.components.base.base_component import BaseComponent
    from tfx.orchestration import data_types

    from pipeline.dag import create_pipeline

    kf.validate(local_paths)
    class_names, description = dataset_info(kf)
    config = dataclasses.replace(snout_config, serving_dir=kf.resolved_serving_dir)
    baseline, infra_validation = TARGETS[kf.target]
    pipeline = create_pipeline(config, kf.data, class_names, description, metadata_connection_config=None,
                               module_file=None, beam_pipeline_args=kf.beam_pipeline_args(snout_config),
                               baseline=baseline, infra_validation=infra_validation)
    # The configured root exactly (SnoutConfig.pipeline_root is <workspace>/pipeline_root, a local idea).
    pipeline.pipeline_info = data_types.PipelineInfo(pipeline_name=pipeline.pipeline_info.pipeline_name,
                                                     pipeline_root=kf.pipeline_root)
    for component in pipeline.components:
        if component.id in TRAINING_COMPONENTS:
            spec = resource_spec(kf.train_cpu, kf.train_memory_gb, kf.gpus, kf.gpu_type)
        elif isinstance(component, BaseComponent) and (kf.component_cpu or kf.component_memory_gb):
            spec = resource_spec(kf.component_cpu, kf.component_memory_gb)
        else:
            continue
        if spec.ByteSize():
            component.with_platform_config(spec)
    return pipeline


def compile_pipeline(snout_config: SnoutConfig, kubeflow_config: KubeflowConfig, local_paths: bool = False) -> str:
    """Compiles the DAG into kubeflow_config.output (YAML: PipelineSpec; JSON: PipelineJob); returns its path.
    local_paths: a pipeline root, data and serving dir on this machine's disk, only for executing the
    spec here (tests/fixtures/kfp_local.py); the command line never sets it."""
    import yaml
    from tfx import v1 as tfx
    from tfx.dsl.io import fileio

    kf = kubeflow_config
    pipeline = build_pipeline(snout_config, kf, local_paths)
    # Kubeflow Pipelines 2's backend reads only schema 2.1: constants as `constant` (its driver refuses the
    # 2.0 `constantValue`) and `parameterValues` in the executor input (TFX's entrypoint reads them with 2.1).
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=kf.image, use_pipeline_spec_2_1=kf.target == "kfp"))
    job = runner.run(pipeline, write_out=False)
    # Self-contained: the root is in the spec itself, not only in the (JSON-only) runtimeConfig.
    job["pipelineSpec"].setdefault("defaultPipelineRoot", kf.pipeline_root)
    output = kf.output if "://" in kf.output else os.path.abspath(kf.output)
    parent = os.path.dirname(output)
    if parent and not fileio.exists(parent):
        fileio.makedirs(parent)
    with fileio.open(output, "w") as f:
        if output.endswith((".yaml", ".yml")):
            f.write(yaml.safe_dump(job["pipelineSpec"], sort_keys=True))
        else:
            f.write(json.dumps(job, sort_keys=True, indent=1))
    return output
