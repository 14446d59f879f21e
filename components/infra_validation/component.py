"""SavedModelInfraValidator: TFX's InfraValidator contract (Model + Examples in, InfraBlessing out)
where no model server can be started: the candidate is loaded in a fresh TensorFlow process and
every signature is called on real images (raw bytes and tf.Example), warm-up records replayed.
"""

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.infra_validation.executor import Executor


class SavedModelInfraValidatorSpec(types.ComponentSpec):
    PARAMETERS = {
        "num_examples": ExecutionParameter(type=int),
        "timeout_seconds": ExecutionParameter(type=int),
    }
    INPUTS = {
        "model": ChannelParameter(type=standard_artifacts.Model),
        "examples": ChannelParameter(type=standard_artifacts.Examples),
    }
    OUTPUTS = {"blessing": ChannelParameter(type=standard_artifacts.InfraBlessing)}


class SavedModelInfraValidator(base_component.BaseComponent):
    SPEC_CLASS = SavedModelInfraValidatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, model: types.BaseChannel, examples: types.BaseChannel, num_examples: int = 4,
                 timeout_seconds: int = 600):
        blessing = types.Channel(type=standard_artifacts.InfraBlessing)
        super().__init__(spec=SavedModelInfraValidatorSpec(
            model=model, examples=examples, num_examples=num_examples, timeout_seconds=timeout_seconds,
            blessing=blessing))
