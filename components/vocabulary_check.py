"""ClassNamesCheck: the run's class names must be the data's vocabulary (`labels.txt`), in order.

Class index i means class_names[i] to the Trainer and the exported model; labels.txt defines
what index i means in the records. A compiled Kubeflow spec carries its class names, fixed
when it was compiled (--classes, or labels.txt if it could be read from there); this check
runs on the cluster, where the data is readable, before Transform, and fails the run on a
mismatch instead of serving a model that maps indices to the wrong names.
"""

import json
from typing import List

from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.dsl.io import fileio
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

import contract


def read_vocabulary_uri(data_uri: str) -> List[str]:
    """labels.txt of a dataset at any URI tf.io.gfile reads (gs://, s3://, local)."""
    path = f"{data_uri.rstrip('/')}/{contract.VOCABULARY_FILE}"
    with fileio.open(path, "r") as f:
        return contract.parse_vocabulary(f.read(), path)


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        data_uri = exec_properties["data_uri"]
        class_names = json.loads(exec_properties["class_names"])
        try:
            vocabulary = read_vocabulary_uri(data_uri)
        except Exception as e:  # noqa: BLE001 - unreadable: the names cannot be trusted
            raise RuntimeError(f"cannot read {contract.VOCABULARY_FILE} under {data_uri} "
                               f"({type(e).__name__}: {e}); the class names cannot be checked") from e
        difference = contract.class_list_difference(class_names, vocabulary)
        if difference:
            raise RuntimeError(f"the run's class names {class_names} are not the data's {vocabulary} "
                               f"({data_uri}/{contract.VOCABULARY_FILE}): {difference}; recompile with the "
                               "data's class names, in its order")


class ClassNamesCheckSpec(types.ComponentSpec):
    PARAMETERS = {"data_uri": ExecutionParameter(type=str), "class_names": ExecutionParameter(type=str)}
    # The examples only tie the check to the data: new data, new check (no stale cache hit).
    INPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {}


class ClassNamesCheck(base_component.BaseComponent):
    SPEC_CLASS = ClassNamesCheckSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, data_uri: str, class_names: List[str]):
        super().__init__(spec=ClassNamesCheckSpec(examples=examples, data_uri=data_uri,
                                                  class_names=json.dumps(list(class_names))))
