"""The Embeddings TFX component and its artifact type.

Inputs: the examples (ImportExampleGen) and Transform's graph, so the features are those of the
images the Trainer trains on. Its one setting is EmbeddingsSettings (settings.py): what changes the
features (data, network, view settings, the code computing them) and nothing else, so a new
--epochs or --tuner-trials reuses them from the cache.
"""

from __future__ import annotations

import json
from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact, artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.embeddings.compute import compute_embeddings, direct_images, free_memory, transform_graph_images
from components.embeddings.settings import EmbeddingsSettings
from contract import audit as names

SETTINGS_KEY = "settings"


class Embeddings(artifact.Artifact):
    """Per split: pooled base features, labels, sources; augmented views of the train split."""

    TYPE_NAME = names.EMBEDDINGS_TYPE


def split_record_files(examples, split: str):
    """The split's record files in ExampleGen's output, sorted: row i of the embeddings is record i."""
    import tensorflow as tf

    folder = artifact_utils.get_split_uri([examples], split)
    return sorted(tf.io.gfile.glob(f"{folder}/*"))


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        import tensorflow_transform as tft

        settings = EmbeddingsSettings.from_config(json.loads(exec_properties[SETTINGS_KEY]))
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        files = {s: split_record_files(examples, s) for s in artifact_utils.decode_split_names(examples.split_names)}
        files = {s: f for s, f in files.items() if f}
        graph = input_dict.get("transform_graph") or []
        to_images = (transform_graph_images(tft.TFTransformOutput(graph[0].uri)) if graph
                     else direct_images(settings.network.image_size, settings.network.scaling))
        output = artifact_utils.get_single_instance(output_dict["embeddings"])
        names.write_embeddings(output.uri, compute_embeddings(settings, files, to_images), settings.to_config())
        del to_images, graph  # Transform's graph, loaded for the images: not needed by the components after
        free_memory()


class EmbeddingsSpec(types.ComponentSpec):
    PARAMETERS = {SETTINGS_KEY: ExecutionParameter(type=str)}  # EmbeddingsSettings as JSON
    INPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples),
              "transform_graph": ChannelParameter(type=standard_artifacts.TransformGraph, optional=True)}
    OUTPUTS = {"embeddings": ChannelParameter(type=Embeddings)}


class EmbeddingsComponent(base_component.BaseComponent):
    SPEC_CLASS = EmbeddingsSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, examples: types.BaseChannel, settings: EmbeddingsSettings,
                 transform_graph: Optional[types.BaseChannel] = None):
        super().__init__(spec=EmbeddingsSpec(examples=examples, transform_graph=transform_graph,
                                             settings=json.dumps(settings.to_config(), sort_keys=True),
                                             embeddings=types.Channel(type=Embeddings)))
