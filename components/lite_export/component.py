"""LiteExport (after the Trainer) and LitePusher (after the Pusher), with their own artifact types.

Own types, not Model/PushedModel: the Resolver, the report and `snout run`'s summary look up the
newest Model and PushedModel of the pipeline, which must stay the SavedModel's. The type names
follow KFP's schema-title form (<namespace>.<Title>), so the Kubeflow V2 compiler accepts them.
"""

from __future__ import annotations

import json

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from contract import lite as lite_contract
from components.lite_export import executor, push
from components.lite_export.settings import LiteSettings


class LiteModel(types.Artifact):
    """model.tflite, model_int8.tflite, labels.txt and lite_parity.json."""
    TYPE_NAME = lite_contract.LITE_MODEL_TYPE


class LitePushedModel(types.Artifact):
    """Where LitePusher put the variants that passed (custom properties: pushed, pushed_version, ...)."""
    TYPE_NAME = lite_contract.LITE_PUSH_TYPE


class LiteExportSpec(types.ComponentSpec):
    PARAMETERS = {executor.SETTINGS_KEY: ExecutionParameter(type=str)}  # LiteSettings as JSON
    INPUTS = {"model": ChannelParameter(type=standard_artifacts.Model),
              "examples": ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS = {"lite_model": ChannelParameter(type=LiteModel)}


class LiteExport(base_component.BaseComponent):
    """The Trainer's model as two TFLite files with metadata, and the parity of each against the SavedModel."""

    SPEC_CLASS = LiteExportSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, model: types.BaseChannel, examples: types.BaseChannel, settings: LiteSettings):
        super().__init__(spec=LiteExportSpec(
            model=model, examples=examples, settings=json.dumps(settings.to_config(), sort_keys=True),
            lite_model=types.Channel(type=LiteModel)))


class LitePusherSpec(types.ComponentSpec):
    PARAMETERS = {push.BASE_DIRECTORY_KEY: ExecutionParameter(type=str)}
    INPUTS = {"pushed_model": ChannelParameter(type=standard_artifacts.PushedModel),
              "lite_model": ChannelParameter(type=LiteModel)}
    OUTPUTS = {"lite_push": ChannelParameter(type=LitePushedModel)}


class LitePusher(base_component.BaseComponent):
    """Copies the passing variants to <base_directory>/<the SavedModel's pushed version>/; nothing if it wasn't pushed."""

    SPEC_CLASS = LitePusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(push.Executor)

    def __init__(self, pushed_model: types.BaseChannel, lite_model: types.BaseChannel, base_directory: str):
        super().__init__(spec=LitePusherSpec(
            pushed_model=pushed_model, lite_model=lite_model, base_directory=base_directory,
            lite_push=types.Channel(type=LitePushedModel)))
