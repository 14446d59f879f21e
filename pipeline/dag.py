"""The one definition of snout's TFX DAG, shared by every runner (local, Kubeflow).

ImportExampleGen(train, validation, test) -> StatisticsGen -> ExampleValidator (vs ImportSchemaGen's
  dataset schema; anomalies fail it) -> Transform (also waits for ClassNamesCheck)
  -> [Embeddings: the base's pooled features, once] -> [DataAudit] -> the Evaluator's leak rule
  -> [Tuner] -> Trainer -> [Resolver(latest blessed)] -> Evaluator(test) -> Pusher ------------> [LitePusher]
                      \\-> InfraValidator -------------------/                 /
                      \\-> [LiteExport: TFLite files, parity gate] ------------/
  (the Tuner's cached mode and the Trainer's phase 1 read the Embeddings' features)

`create_pipeline` lists the components in that order; each place where a run can be wired two or
three ways has a small function of its own: the shared features and the audit (on or off), the
hyperparameters (a Tuner, an imported file, or none), the Evaluator's baseline (a Resolver, or the
served model) and the infra validation (in process, or TF Serving pods on Kubernetes), and the edge
export (on or off).
"""

from __future__ import annotations

import os
from typing import List, Optional

import contract
from contract.lite import lite_base_dir
from components.audit.component import DataAuditComponent
from components.data_validation import GatingExampleValidator
from components.embeddings.component import EmbeddingsComponent
from components.embeddings.consumers import EmbeddingsTrainer, EmbeddingsTuner
from components.evaluator.component import Evaluator
from components.infra_validation.component import SavedModelInfraValidator
from components.infra_validation.tf_serving import kubernetes_infra_validator
from components.lite_export.component import LiteExport, LitePusher
from components.pusher import IdempotentPusher
from components.vocabulary_check import ClassNamesCheck
from pipeline import tfx_api as tfx  # tfx.v1's names, without its Google Cloud extensions' imports
from pipeline.config import SnoutConfig, absolute_uri
from trainer.backbones import get_backbone

import trainer.module

# The module file TFX packages (with every other .py in trainer/) as user code.
MODULE_FILE = os.path.abspath(trainer.module.__file__)
# With module_file=None (Kubeflow: the code is installed in the container image) the
# components import these instead of packaging the module file as a wheel.
FUNCTION_PATHS = {"preprocessing_fn": "trainer.module.preprocessing_fn",
                  "run_fn": "trainer.module.run_fn", "tuner_fn": "trainer.module.tuner_fn"}

# baseline="resolver": the Resolver's latest blessed model is the Evaluator's baseline (local runs).
# baseline="served": no Resolver node (open-source KFP runs no resolver executors); the Evaluator
# takes the newest version under the push destination at run time.
BASELINES = ("resolver", "served")
# infra_validation="in_process": SavedModelInfraValidator; "kubernetes": TFX's InfraValidator starting
# TF Serving pods, whose blessing carries the model the Pusher pushes.
INFRA_VALIDATIONS = ("in_process", "kubernetes")


def create_pipeline(config: SnoutConfig, data_dir: str, class_names: List[str], dataset_description: str,
                    metadata_connection_config=None, module_file: Optional[str] = MODULE_FILE,
                    beam_pipeline_args: Optional[List[str]] = None, baseline: str = "resolver",
                    infra_validation: str = "in_process", schema_file: Optional[str] = None) -> tfx.dsl.Pipeline:
    """The DAG for `config`. schema_file (default --schema): the dataset's schema; without one SchemaGen
    infers it from this data. config.hyperparameters, when set, is the folder to import (cli/run.py stages it)."""
    if baseline not in BASELINES or infra_validation not in INFRA_VALIDATIONS:
        raise ValueError(f"baseline={baseline!r} (one of {BASELINES}), "
                         f"infra_validation={infra_validation!r} (one of {INFRA_VALIDATIONS})")
    example_gen = tfx.components.ImportExampleGen(
        input_base=absolute_uri(data_dir),
        input_config=tfx.proto.Input(splits=[
            tfx.proto.Input.Split(name=split, pattern=f"{split}/{contract.RECORD_PATTERN}") for split in contract.SPLITS]))
    examples = example_gen.outputs["examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=examples)
    schema_gen = _schema_gen(schema_file or config.schema, statistics_gen)
    example_validator = GatingExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]).with_id("ExampleValidator")
    # Class names vs the data's labels.txt, read where the run runs (a compiled spec's names are fixed).
    class_names_check = ClassNamesCheck(examples, absolute_uri(data_dir), class_names)
    # Transform writes only its graph (materialize=False, and no statistics of float pixels): Tuner and
    # Trainer stream the raw records through it (trainer/datasets.py), as serving does. With no
    # analyzers either, TFT builds the graph without a pass over the data.
    transform = tfx.components.Transform(
        examples=examples, schema=schema_gen.outputs["schema"], **_user_code("preprocessing_fn", module_file),
        custom_config=config.transform_settings().to_config(), materialize=False, disable_statistics=True)
    for check in (example_validator, class_names_check):  # bad data or class names stop the run before training
        transform.add_upstream_node(check)
    audit_nodes, shared_features, audit = _data_audit(config, examples, transform, class_names)
    hyperparameter_nodes, hyperparameters = _hyperparameters(config, class_names, examples, transform, module_file,
                                                             shared_features)
    trainer_component = EmbeddingsTrainer(
        examples=examples, transform_graph=transform.outputs["transform_graph"], schema=schema_gen.outputs["schema"],
        hyperparameters=hyperparameters, embeddings=shared_features, **_user_code("run_fn", module_file),
        **_train_and_eval_splits(),
        custom_config=config.trainer_settings(class_names, dataset_description).to_config()).with_id("Trainer")
    model = trainer_component.outputs["model"]
    baseline_nodes, baseline_inputs = _baseline(baseline, config)
    evaluator = Evaluator(
        examples=examples, model=model, num_classes=len(class_names), min_accuracy=config.min_accuracy,
        max_accuracy_drop=config.max_accuracy_drop, gate_split=contract.TEST_SPLIT,
        validation_split=contract.VALIDATION_SPLIT, audit=audit, max_leaked_test_share=config.max_leaked_test_share,
        drop_leaked_test=config.drop_leaked_test, **baseline_inputs)
    infra_validator, pushed_model = _infra_validation(infra_validation, model, examples, config)
    pusher = IdempotentPusher(
        **pushed_model, model_blessing=evaluator.outputs["blessing"], infra_blessing=infra_validator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=absolute_uri(config.model_serving_dir))))

    components = [example_gen, statistics_gen, schema_gen, example_validator, class_names_check, transform,
                  *audit_nodes, *hyperparameter_nodes, trainer_component, *baseline_nodes, evaluator, infra_validator, pusher,
                  *_edge_export(config, model, examples, pusher)]
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name, pipeline_root=absolute_uri(config.pipeline_root), components=components,
        enable_cache=config.enable_cache, metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args if beam_pipeline_args is not None else config.beam_pipeline_args(data_dir))


def _edge_export(config: SnoutConfig, model, examples, pusher) -> list:
    """LiteExport after the Trainer, and a LitePusher beside the SavedModel's pushed version (--no-lite-export: none)."""
    if not config.lite_export:
        return []
    lite_export = LiteExport(model=model, examples=examples, settings=config.lite_settings(contract.TEST_SPLIT))
    return [lite_export, LitePusher(pushed_model=pusher.outputs["pushed_model"],
                                    lite_model=lite_export.outputs["lite_model"],
                                    base_directory=absolute_uri(lite_base_dir(config.model_serving_dir)))]


def _user_code(fn: str, module_file: Optional[str]) -> dict:
    return {"module_file": module_file} if module_file else {fn: FUNCTION_PATHS[fn]}


def _train_and_eval_splits() -> dict:
    """Tuner and Trainer fit on train and choose on validation; test stays the Evaluator's alone."""
    return {"train_args": tfx.proto.TrainArgs(splits=[contract.TRAIN_SPLIT]),
            "eval_args": tfx.proto.EvalArgs(splits=[contract.VALIDATION_SPLIT])}


def _schema_gen(schema_file: Optional[str], statistics_gen):
    if schema_file:
        return tfx.components.ImportSchemaGen(schema_file=absolute_uri(schema_file))
    return tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)


def _data_audit(config: SnoutConfig, examples, transform, class_names: List[str]):
    """(nodes, the features the Tuner and Trainer read or None, the audit the Evaluator reads or None).

    Embeddings run when the Trainer can read them (a pretrained base, --share-embeddings) or the audit
    is on; with a base trained from scratch they are the audit's alone (SnoutConfig.embeddings_settings)."""
    pretrained = get_backbone(config.backbone).pretrained
    if not ((pretrained and config.share_embeddings) or config.audit):
        return [], None, None
    embeddings = EmbeddingsComponent(
        examples=examples, settings=config.embeddings_settings(),
        transform_graph=transform.outputs["transform_graph"] if pretrained else None).with_id("Embeddings")
    shared = embeddings.outputs["embeddings"] if pretrained and config.share_embeddings else None
    if not config.audit:
        return [embeddings], shared, None
    audit = DataAuditComponent(embeddings.outputs["embeddings"], examples,
                               config.audit_settings(class_names)).with_id("DataAudit")
    return [embeddings, audit], shared, audit.outputs["audit"]


def _hyperparameters(config: SnoutConfig, class_names: List[str], examples, transform, module_file: Optional[str],
                     shared_features=None):
    """(nodes, the Trainer's hyperparameters channel): a Tuner's search, an imported file, or none."""
    if config.tune:
        tuner = EmbeddingsTuner(
            examples=examples, transform_graph=transform.outputs["transform_graph"],
            embeddings=shared_features if config.tuner_mode == "cached" else None,
            **_user_code("tuner_fn", module_file), **_train_and_eval_splits(),
            custom_config=config.tuner_settings(class_names).to_config()).with_id("Tuner")
        return [tuner], tuner.outputs["best_hyperparameters"]
    if config.hyperparameters:
        # An earlier search's best_hyperparameters.txt (e.g. `snout tune`): its folder, as cli/run.py staged it.
        importer = tfx.dsl.Importer(source_uri=config.hyperparameters,
                                    artifact_type=tfx.types.standard_artifacts.HyperParameters,
                                    ).with_id("hyperparameters_importer")
        return [importer], importer.outputs["result"]
    return [], None


def _baseline(baseline: str, config: SnoutConfig):
    """(nodes, the Evaluator's baseline inputs): the Resolver's latest blessed model, or the served one.
    The Resolver also hands over that model's blessing: it says where its evaluation is stored, so a
    candidate that is the very same model is not graded again (components/evaluator/reuse.py)."""
    if baseline == "served":
        return [], {"served_model_dir": absolute_uri(config.model_serving_dir)}
    resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    return [resolver], {"baseline_model": resolver.outputs["model"],
                        "baseline_blessing": resolver.outputs["model_blessing"]}


def _infra_validation(infra_validation: str, model, examples, config: SnoutConfig):
    """(the infra validator, the Pusher's model input)."""
    if infra_validation == "kubernetes":
        # The Pusher pushes the infra blessing's copy: the model plus its warm-up requests.
        return kubernetes_infra_validator(model, examples, config.model_name), {}
    return SavedModelInfraValidator(model, examples), {"model": model}
