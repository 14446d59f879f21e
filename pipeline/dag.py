"""The one definition of snout's TFX DAG, shared by every runner (local, Kubeflow).

ImportExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform
  -> [Tuner] -> Trainer -> Resolver(latest blessed) -> Evaluator -> Pusher
"""

from __future__ import annotations

import os
from typing import List, Optional

from tfx import v1 as tfx

import contract
from components.evaluation import eval_config
from components.pusher import IdempotentPusher
from pipeline.config import SnoutConfig

import trainer.module

# The module file TFX packages (with every other .py in trainer/) as user code.
MODULE_FILE = os.path.abspath(trainer.module.__file__)
# With module_file=None (Kubeflow: the code is installed in the container image) the
# components import these instead of packaging the module file as a wheel.
FUNCTION_PATHS = {"preprocessing_fn": "trainer.module.preprocessing_fn",
                  "run_fn": "trainer.module.run_fn", "tuner_fn": "trainer.module.tuner_fn"}


def _user_code(fn: str, module_file: Optional[str]) -> dict:
    return {"module_file": module_file} if module_file else {fn: FUNCTION_PATHS[fn]}


def _uri(path: str) -> str:
    """Local paths made absolute; remote URIs (gs://, s3://, ...) kept as given."""
    return path if "://" in path else os.path.abspath(path)


def create_pipeline(config: SnoutConfig, data_dir: str, class_names: List[str], dataset_description: str,
                    metadata_connection_config=None, module_file: Optional[str] = MODULE_FILE,
                    beam_pipeline_args: Optional[List[str]] = None) -> tfx.dsl.Pipeline:
    example_gen = tfx.components.ImportExampleGen(
        input_base=_uri(data_dir),
        input_config=tfx.proto.Input(splits=[
            tfx.proto.Input.Split(name=contract.TRAIN_SPLIT, pattern=f"{contract.TRAIN_SPLIT}/{contract.RECORD_PATTERN}"),
            tfx.proto.Input.Split(name=contract.EVAL_SPLIT, pattern=f"{contract.EVAL_SPLIT}/{contract.RECORD_PATTERN}"),
        ]),
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    # Transform writes only its graph (materialize=False, and no statistics of float pixels):
    # Tuner and Trainer stream the raw records through it (trainer/datasets.py), as serving does.
    # With no analyzers either, TFT builds the graph without a pass over the data.
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"],
        **_user_code("preprocessing_fn", module_file), custom_config=config.transform_config(),
        materialize=False, disable_statistics=True)

    tuner = None
    hyperparameters_importer = None
    hyperparameters = None
    if config.tune:
        tuner = tfx.components.Tuner(
            **_user_code("tuner_fn", module_file),
            examples=example_gen.outputs["examples"],
            transform_graph=transform.outputs["transform_graph"],
            train_args=tfx.proto.TrainArgs(splits=[contract.TRAIN_SPLIT]),
            eval_args=tfx.proto.EvalArgs(splits=[contract.EVAL_SPLIT]),
            custom_config=config.tuner_config(class_names))
        hyperparameters = tuner.outputs["best_hyperparameters"]
    elif config.hyperparameters:
        # An earlier search's best_hyperparameters.txt (e.g. `snout tune`), imported as an artifact.
        hp_dir = config.hyperparameters
        hp_dir = hp_dir if "://" in hp_dir or os.path.isdir(hp_dir) else os.path.dirname(os.path.abspath(hp_dir))
        hyperparameters_importer = tfx.dsl.Importer(
            source_uri=_uri(hp_dir), artifact_type=tfx.types.standard_artifacts.HyperParameters,
        ).with_id("hyperparameters_importer")
        hyperparameters = hyperparameters_importer.outputs["result"]

    trainer_component = tfx.components.Trainer(
        **_user_code("run_fn", module_file),
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=hyperparameters,
        train_args=tfx.proto.TrainArgs(splits=[contract.TRAIN_SPLIT]),
        eval_args=tfx.proto.EvalArgs(splits=[contract.EVAL_SPLIT]),
        custom_config=config.trainer_config(class_names, dataset_description))

    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")

    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer_component.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        example_splits=[contract.EVAL_SPLIT],
        eval_config=eval_config(config.min_accuracy, config.max_accuracy_drop, len(class_names)))

    pusher = IdempotentPusher(
        model=trainer_component.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=_uri(config.model_serving_dir))))

    components = [example_gen, statistics_gen, schema_gen, example_validator, transform]
    components += [node for node in (tuner, hyperparameters_importer) if node is not None]
    components += [trainer_component, model_resolver, evaluator, pusher]
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=_uri(config.pipeline_root),
        components=components,
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args if beam_pipeline_args is not None else config.beam_pipeline_args(),
    )
