"""TF Serving's `models.config` (ModelServerConfig text proto) for a serving directory."""

from __future__ import annotations

import os
import re
from typing import List, Optional

CONFIG_FILENAME = "models.config"
_VERSION_DIR = re.compile(r"^\d+$")


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def list_model_dirs(serving_dir: str) -> List[str]:
    """Names of the model directories in `serving_dir`: those holding at least one
    integer-named version directory (TF Serving's layout). Hidden entries are skipped."""
    gfile = _gfile()
    names = []
    for entry in sorted(gfile.listdir(serving_dir)):
        name = entry.rstrip("/")
        path = os.path.join(serving_dir, name)
        if name.startswith((".", "_")) or not gfile.isdir(path):
            continue
        if any(_VERSION_DIR.match(v.rstrip("/")) and gfile.isdir(os.path.join(path, v.rstrip("/")))
               for v in gfile.listdir(path)):
            names.append(name)
    return names


def build_models_config(serving_dir: str, base_path_prefix: Optional[str] = None,
                        num_versions: Optional[int] = None):
    """The ModelServerConfig listing every model directory under `serving_dir`.

    base_path is the model directory's absolute path, or `base_path_prefix/<model>`
    when given (e.g. "/models" when serving_dir is mounted there in a container).
    num_versions: model_version_policy latest{num_versions}; None keeps TF Serving's
    default (latest 1).
    """
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    for name in list_model_dirs(serving_dir):
        model = config.model_config_list.config.add()
        model.name = name
        if base_path_prefix:
            model.base_path = base_path_prefix.rstrip("/") + "/" + name
        elif "://" in serving_dir:
            model.base_path = serving_dir.rstrip("/") + "/" + name
        else:
            model.base_path = os.path.abspath(os.path.join(serving_dir, name))
        model.model_platform = "tensorflow"
        if num_versions is not None:
            model.model_version_policy.latest.num_versions = int(num_versions)
    return config


def write_models_config(serving_dir: str, base_path_prefix: Optional[str] = None,
                        num_versions: Optional[int] = None) -> str:
    """Write `<serving_dir>/models.config` (text proto for `--model_config_file`),
    replacing it atomically; returns its path."""
    from google.protobuf import text_format

    gfile = _gfile()
    config = build_models_config(serving_dir, base_path_prefix, num_versions)
    path = os.path.join(serving_dir, CONFIG_FILENAME)
    tmp = path + ".tmp"
    with gfile.GFile(tmp, "w") as f:
        f.write(text_format.MessageToString(config))
    gfile.rename(tmp, path, overwrite=True)
    return path
