"""TFX's Trainer and Tuner with one more, optional input: the run's embeddings.

The stock specs have no slot for them, so these subclasses add an `embeddings` channel and an
executor that hands its URI to the user code in its settings (`embeddings_uri` of TrainerSettings and
TunerSettings, trainer/settings.py, "" when the DAG is built): phase 1 and the Tuner's cached mode
then read the features instead of running the base again.
Same executors otherwise, so the Kubeflow spec runs them as container tasks like the stock ones.
"""

from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.components import Trainer, Tuner
from tfx.components.trainer import executor as trainer_executor
from tfx.components.tuner import executor as tuner_executor
from tfx.components.util import udf_utils
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs as specs
from tfx.types.component_spec import ChannelParameter
from tfx.utils import json_utils

from components.embeddings.component import Embeddings

EMBEDDINGS_KEY = "embeddings"
EMBEDDINGS_URI_FIELD = "embeddings_uri"  # of TrainerSettings and TunerSettings


def with_embeddings_uri(input_dict, exec_properties):
    """exec_properties whose settings (custom_config) carry the embeddings' URI; unchanged without
    embeddings. The user code parses the settings, strictly, once (trainer/module.py)."""
    found = input_dict.get(EMBEDDINGS_KEY) or []
    if not found:
        return exec_properties
    config = dict(json_utils.loads(exec_properties[specs.CUSTOM_CONFIG_KEY]))
    config[EMBEDDINGS_URI_FIELD] = found[0].uri
    return dict(exec_properties, **{specs.CUSTOM_CONFIG_KEY: json_utils.dumps(config)})


class TrainerExecutor(trainer_executor.GenericExecutor):
    def Do(self, input_dict, output_dict, exec_properties):
        return super().Do(input_dict, output_dict, with_embeddings_uri(input_dict, exec_properties))


class TunerExecutor(tuner_executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        return super().Do(input_dict, output_dict, with_embeddings_uri(input_dict, exec_properties))


class TrainerWithEmbeddingsSpec(specs.TrainerSpec):
    INPUTS = dict(specs.TrainerSpec.INPUTS, **{EMBEDDINGS_KEY: ChannelParameter(type=Embeddings, optional=True)})


class TunerWithEmbeddingsSpec(specs.TunerSpec):
    INPUTS = dict(specs.TunerSpec.INPUTS, **{EMBEDDINGS_KEY: ChannelParameter(type=Embeddings, optional=True)})


def _respecified(component, spec_class, stock, embeddings, outputs):
    """Initialises `component` with the stock component's checked settings and inputs, plus the embeddings."""
    base_component.BaseComponent.__init__(component, spec=spec_class(
        **stock.spec.exec_properties, **stock.spec.inputs, **outputs, **{EMBEDDINGS_KEY: embeddings}))
    if udf_utils.should_package_user_modules() and stock.spec.exec_properties.get(specs.MODULE_FILE_KEY):
        udf_utils.add_user_module_dependency(component, specs.MODULE_FILE_KEY, specs.MODULE_PATH_KEY)


class EmbeddingsTrainer(Trainer):
    """tfx.components.Trainer (same arguments) + `embeddings`."""

    SPEC_CLASS = TrainerWithEmbeddingsSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(TrainerExecutor)

    def __init__(self, embeddings: Optional[types.BaseChannel] = None, **trainer_args):
        _respecified(self, TrainerWithEmbeddingsSpec, Trainer(**trainer_args), embeddings,
                     {specs.MODEL_KEY: types.Channel(type=standard_artifacts.Model),
                      specs.MODEL_RUN_KEY: types.Channel(type=standard_artifacts.ModelRun)})


class EmbeddingsTuner(Tuner):
    """tfx.components.Tuner (same arguments) + `embeddings`."""

    SPEC_CLASS = TunerWithEmbeddingsSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(TunerExecutor)

    def __init__(self, embeddings: Optional[types.BaseChannel] = None, **tuner_args):
        _respecified(self, TunerWithEmbeddingsSpec, Tuner(**tuner_args), embeddings,
                     {specs.BEST_HYPERPARAMETERS_KEY: types.Channel(type=standard_artifacts.HyperParameters),
                      specs.TUNER_RESULTS_KEY: types.Channel(type=standard_artifacts.TunerResults)})
