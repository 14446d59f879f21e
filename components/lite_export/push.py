"""LitePusher's executor: the variants that passed the parity gate, beside the SavedModel's version.

<base_directory>/<version>/ with the version the Pusher gave the SavedModel in this run (TFX's
PushedModel `pushed_version`; an already-served model keeps its version). Nothing is written when the
SavedModel was not pushed (its blessing decides whether there is a version) or no variant passed.
Idempotent: when the version folder already holds the same model files, nothing is written; a folder
with other files (the lite settings changed, the SavedModel did not) is replaced whole, never merged.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import List, Optional

from absl import logging
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

import contract
from contract import lite as lite_contract

BASE_DIRECTORY_KEY = "base_directory"


def _digest(folder: str, names: List[str]) -> Optional[str]:
    digest = hashlib.sha256()
    for name in names:
        path = os.path.join(folder, name)
        if not fileio.exists(path):
            return None
        with fileio.open(path, "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()


def _listing(folder: str) -> List[str]:
    return sorted(n.rstrip("/") for n in fileio.listdir(folder)) if fileio.isdir(folder) else []


def push_files(source: str, names: List[str], destination: str) -> str:
    """Copies `names` from `source` into `destination`: "written", "unchanged" or "replaced"."""
    models = [n for n in names if n.endswith(lite_contract.TFLITE_EXTENSION)] + [contract.VOCABULARY_FILE]
    if fileio.isdir(destination):
        same = _listing(destination) == sorted(names) and _digest(destination, models) == _digest(source, models)
        if same:
            return "unchanged"
    parent, version = os.path.split(destination.rstrip("/"))
    staging = os.path.join(parent, f".{version}.incoming-{uuid.uuid4().hex[:8]}")
    fileio.makedirs(staging)
    for name in names:
        fileio.copy(os.path.join(source, name), os.path.join(staging, name), overwrite=True)
    outcome = "written"
    if fileio.isdir(destination):  # other files under the same version: move them aside, then swap
        old = os.path.join(parent, f".{version}.replaced-{uuid.uuid4().hex[:8]}")
        fileio.rename(destination, old)
        fileio.rmtree(old)
        outcome = "replaced"
    fileio.rename(staging, destination)
    return outcome


def _record(lite_push, pushed: bool, reason: str = "", version: str = "", destination: str = "",
            variants: Optional[List[str]] = None, unchanged: bool = False) -> None:
    lite_push.set_int_custom_property("pushed", int(pushed))
    lite_push.set_string_custom_property("pushed_version", version)
    lite_push.set_string_custom_property("pushed_destination", destination)
    lite_push.set_string_custom_property(lite_contract.PUSH_VARIANTS_KEY, ",".join(variants or []))
    lite_push.set_int_custom_property(lite_contract.PUSH_UNCHANGED_KEY, int(unchanged))
    lite_push.set_string_custom_property(lite_contract.PUSH_REASON_KEY, reason)
    logging.info("LitePusher: %s", reason or f"{','.join(variants or [])} at {destination}")


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        pushed_model = artifact_utils.get_single_instance(input_dict["pushed_model"])
        lite_model = artifact_utils.get_single_instance(input_dict["lite_model"])
        lite_push = artifact_utils.get_single_instance(output_dict["lite_push"])
        if not pushed_model.get_int_custom_property("pushed"):
            return _record(lite_push, False, "the SavedModel was not pushed, so there is no version to push beside")
        with fileio.open(os.path.join(lite_model.uri, lite_contract.PARITY_FILE)) as f:
            parity = json.load(f)
        passed = [v for v in lite_contract.VARIANT_FILES if parity["variants"].get(v, {}).get("passed")]
        if not passed:
            return _record(lite_push, False, parity.get("error") or "no TFLite variant passed the parity gate")
        version = pushed_model.get_string_custom_property("pushed_version")
        destination = os.path.join(exec_properties[BASE_DIRECTORY_KEY], version)
        names = [lite_contract.VARIANT_FILES[v] for v in passed] + [contract.VOCABULARY_FILE, lite_contract.PARITY_FILE]
        outcome = push_files(lite_model.uri, names, destination)
        _record(lite_push, True, version=version, destination=destination, variants=passed,
                unchanged=outcome == "unchanged")
