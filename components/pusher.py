"""A Pusher that doesn't push the same model twice.

A cached rerun re-resolves the latest blessed model, which is now the candidate
itself, so Evaluator runs again and blesses it against itself; the stock Pusher
would then copy it again as a new version. This one compares the candidate with the
versions already in the serving directory (by file contents) and, if one matches,
records that version instead of writing a duplicate.
"""

import hashlib
import os
from typing import Optional

from absl import logging
from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils
from tfx.components.pusher.component import Pusher


def _model_files(model_dir: str):
    """The SavedModel's graph and variable files (assets.extra metadata excluded)."""
    names = ["saved_model.pb"]
    variables = os.path.join(model_dir, "variables")
    if fileio.isdir(variables):
        names += [os.path.join("variables", n) for n in sorted(fileio.listdir(variables))]
    return names


def _sizes(model_dir: str):
    """(name, size) of each model file: a cheap look before reading every byte; None if incomplete."""
    sizes = []
    for name in _model_files(model_dir):
        path = os.path.join(model_dir, name)
        if not fileio.exists(path):
            return None
        sizes.append((name, fileio.stat(path).length))
    return sizes


def saved_model_digest(model_dir: str) -> str:
    """sha256 over the SavedModel's graph and variables (assets.extra metadata excluded)."""
    digest = hashlib.sha256()
    for name in _model_files(model_dir):
        path = os.path.join(model_dir, name)
        if not fileio.exists(path):
            return ""
        digest.update(name.encode())
        digest.update(io_utils.read_bytes_file(path))
    return digest.hexdigest()


def served_version_of(model_dir: str, serving_base: str) -> Optional[str]:
    """The version under `serving_base` whose contents equal `model_dir`, if any.

    Only versions whose file names and sizes match are read in full, so a push of a new
    model does not re-read every earlier version.
    """
    if not fileio.isdir(serving_base):
        return None
    wanted_sizes, wanted_digest = _sizes(model_dir), None
    versions = sorted((v.strip("/") for v in fileio.listdir(serving_base) if v.strip("/").isdigit()),
                      key=int, reverse=True)
    for version in versions:
        candidate = os.path.join(serving_base, version)
        if _sizes(candidate) != wanted_sizes:
            continue
        wanted_digest = wanted_digest or saved_model_digest(model_dir)
        if saved_model_digest(candidate) == wanted_digest:
            return version
    return None


class IdempotentPusherExecutor(pusher_executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        if self.CheckBlessing(input_dict) and destination.WhichOneof("destination") == "filesystem":
            base = destination.filesystem.base_directory
            existing = served_version_of(self.GetModelPath(input_dict), base)
            if existing is not None:
                logging.info("Model already served as version %s; not pushing a duplicate.", existing)
                self._MarkPushed(model_push, pushed_destination=os.path.join(base, existing),
                                 pushed_version=existing)
                model_push.set_int_custom_property("already_served", 1)
                return
        super().Do(input_dict, output_dict, exec_properties)
        _after_push(model_push, destination)


def _after_push(model_push: types.Artifact, destination) -> None:
    """Refreshes TF Serving's models.config beside the pushed model, when serving/ provides it."""
    if not model_push.get_int_custom_property("pushed"):
        return
    try:
        from serving.model_config import write_models_config
    except ImportError:  # serving extras not installed: pushing still succeeded
        return
    write_models_config(os.path.dirname(destination.filesystem.base_directory.rstrip("/")))


class IdempotentPusher(Pusher):
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(IdempotentPusherExecutor)
