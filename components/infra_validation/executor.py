"""Blesses a candidate model only if a fresh TensorFlow process can load it and every signature answers."""

import json
import os
import subprocess
import sys
import tempfile
from typing import List

from absl import logging
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils

import contract

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")
# TFX's InfraValidator writes the same files and property; TFX's Pusher reads the property.
BLESSED_FILE, NOT_BLESSED_FILE, BLESSED_KEY = "INFRA_BLESSED", "INFRA_NOT_BLESSED", "blessed"
REASON_KEY = "reason"
REQUIRED_SIGNATURES = (contract.SIGNATURE_IMAGE_BYTES, contract.SIGNATURE_TF_EXAMPLE, contract.SIGNATURE_CLASSIFY)


def sample_images(examples, num_examples: int) -> List[bytes]:
    """The encoded images of the first records of the examples artifact's first split."""
    import tensorflow as tf

    split = artifact_utils.decode_split_names(examples.split_names)[0]
    files = io_utils.all_files_pattern(artifact_utils.get_split_uri([examples], split))
    records = tf.data.TFRecordDataset(tf.io.gfile.glob(files), compression_type="GZIP").take(num_examples)
    return [tf.train.Example.FromString(r).features.feature[contract.IMAGE_KEY].bytes_list.value[0]
            for r in records.as_numpy_iterator()]


def run_probe(model_dir: str, images: List[bytes], timeout_seconds: int) -> dict:
    """probe.py in a fresh interpreter (-I: no PYTHONPATH, so nothing of snout on its path)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="snout-infra-") as tmp:
        images_file = os.path.join(tmp, "images.tfrecord")
        with tf.io.TFRecordWriter(images_file) as writer:
            for image in images:
                writer.write(image)
        command = [sys.executable, "-I", PROBE, "--model", model_dir, "--images", images_file,
                   "--image-key", contract.IMAGE_KEY, "--image-input", contract.SERVING_IMAGE_INPUT,
                   "--require", ",".join(REQUIRED_SIGNATURES)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            return {"ok": False, "reason": f"the model did not load and answer within {timeout_seconds} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return {"ok": False, "reason": f"the serving process died (exit {done.returncode}): {tail}"}
    return json.loads(lines[-1])


def write_blessing(blessing, result: dict) -> None:
    blessed = bool(result.get("ok"))
    io_utils.write_string_file(os.path.join(blessing.uri, BLESSED_FILE if blessed else NOT_BLESSED_FILE),
                               result["reason"])
    io_utils.write_string_file(os.path.join(blessing.uri, "probe.json"), json.dumps(result, indent=1))
    blessing.set_int_custom_property(BLESSED_KEY, int(blessed))
    blessing.set_string_custom_property(REASON_KEY, result["reason"])


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        blessing = artifact_utils.get_single_instance(output_dict["blessing"])
        model_dir = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        images = sample_images(examples, int(exec_properties["num_examples"]))
        if images:
            result = run_probe(model_dir, images, int(exec_properties["timeout_seconds"]))
        else:
            result = {"ok": False, "reason": "the examples hold no image to send"}
        logging.info("Infra validation of %s: %s (%s)", model_dir,
                     "blessed" if result["ok"] else "NOT blessed", result["reason"])
        write_blessing(blessing, result)
