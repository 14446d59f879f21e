"""The DataAudit TFX component: the audit of findings.py on the run's embeddings, written as an artifact
(the CSV lists, audit.json, thumbnails) that the Evaluator's leak rule and the report read."""

from __future__ import annotations

import json

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component, base_executor, executor_spec
from tfx.types import artifact, artifact_utils, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.audit import findings, thumbnails
from components.audit.settings import AuditSettings
from components.embeddings.component import Embeddings, split_record_files
from contract import audit as names

SETTINGS_KEY = "settings"


class DataAudit(artifact.Artifact):
    """label_issues.csv, near_duplicates.csv, outliers.csv, leaks.csv, audit.json, thumbnails/."""

    TYPE_NAME = names.DATA_AUDIT_TYPE


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        settings = AuditSettings.from_config(json.loads(exec_properties[SETTINGS_KEY]))
        embeddings_uri = artifact_utils.get_single_uri(input_dict["embeddings"])
        splits = {s: names.read_split_embeddings(embeddings_uri, s, views=0)
                  for s in names.read_embeddings_info(embeddings_uri)["splits"]}
        result = findings.audit(splits, settings)
        out = artifact_utils.get_single_uri(output_dict["audit"])
        findings.write_findings(result, out, settings)
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        files = {s: split_record_files(examples, s) for s in splits}
        thumbnails.write_thumbnails(result, files, out, settings.thumbnails_per_kind)
        line = findings.summary_line(result, out)
        logging.info(line)
        print(line)


class DataAuditSpec(types.ComponentSpec):
    PARAMETERS = {SETTINGS_KEY: ExecutionParameter(type=str)}  # AuditSettings as JSON
    INPUTS = {"embeddings": ChannelParameter(type=Embeddings),
              "examples": ChannelParameter(type=standard_artifacts.Examples)}  # for the thumbnails
    OUTPUTS = {"audit": ChannelParameter(type=DataAudit)}


class DataAuditComponent(base_component.BaseComponent):
    SPEC_CLASS = DataAuditSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, embeddings: types.BaseChannel, examples: types.BaseChannel, settings: AuditSettings):
        super().__init__(spec=DataAuditSpec(
            embeddings=embeddings, examples=examples, settings=json.dumps(settings.to_config(), sort_keys=True),
            audit=types.Channel(type=DataAudit)))
