"""The contract every part of snout agrees on: record format, feature keys, serving names.

This is the bottom layer: it imports nothing of snout, and everything else imports its
names from here instead of spelling them again.

Record format. ExampleGen reads, the ingest converter and the sample-data maker write, and
Transform parses the same `tf.train.Example`:

  image: bytes_list, one encoded JPEG or PNG (3-channel 8-bit after ingest)
  label: int64_list, one class index into the vocabulary

Beside the records of a dataset lies `labels.txt`: one class name per line, the
line number (from 0) being the class index. A dataset directory looks like

  <data_dir>/labels.txt
  <data_dir>/summary.json          (optional: counts, skips, provenance)
  <data_dir>/train/*.tfrecord.gz
  <data_dir>/eval/*.tfrecord.gz
  <data_dir>/test/*.tfrecord.gz    (optional)
"""

from __future__ import annotations

import json
import os
from typing import List, Sequence

# Feature keys: raw records, and Transform's output.
IMAGE_KEY = "image"
LABEL_KEY = "label"
TRANSFORMED_IMAGE_KEY = "image_xf"

# Serving contract: input and output names and signatures of the exported model.
SERVING_IMAGE_INPUT = "image_bytes"
SERVING_EXAMPLES_INPUT = "examples"
CLASSIFY_INPUT = "inputs"
OUTPUT_PROBABILITIES = "probabilities"
OUTPUT_CLASS_INDEX = "class_index"
OUTPUT_CLASS_NAME = "class_name"
SIGNATURE_IMAGE_BYTES = "serving_default"
SIGNATURE_TF_EXAMPLE = "serving_tf_example"
SIGNATURE_CLASSIFY = "classification"
# TF Serving's method names and the Classify API's fixed keys (tensorflow_serving signature_constants).
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
REGRESS_METHOD_NAME = "tensorflow/serving/regress"
SERVE_TAG = "serve"
CLASSIFY_OUTPUT_CLASSES = "classes"
CLASSIFY_OUTPUT_SCORES = "scores"
# Beside the graph in every exported model: labels.txt (VOCABULARY_FILE) and the provenance JSON.
MODEL_EXTRA_DIR = "assets.extra"
MODEL_INFO_FILE = "snout_model.json"

# Dataset layout.
VOCABULARY_FILE = "labels.txt"
SUMMARY_FILE = "summary.json"
TRAIN_SPLIT = "train"            # fits the model
VALIDATION_SPLIT = "validation"  # chooses it: early stopping, best epoch, phase-2 keep, tuner objective
TEST_SPLIT = "test"              # grades it: the only split the Evaluator gates on
EVAL_SPLIT = "eval"              # datasets made before the three-split layout
RECORD_SUFFIX = ".tfrecord.gz"   # what snout writes
RECORD_SUFFIXES = (".tfrecord", ".tfrecord.gz")  # what snout reads (TFRecord readers detect gzip by suffix)
RECORD_PATTERN = "*.tfrecord*"


def make_example(encoded_image: bytes, label: int):
    """Builds the tf.train.Example for one image (import of TF kept local)."""
    import tensorflow as tf

    return tf.train.Example(
        features=tf.train.Features(
            feature={
                IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded_image])),
                LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
            }
        )
    )


def write_vocabulary(data_dir: str, class_names: Sequence[str]) -> str:
    names = list(class_names)
    if len(set(names)) != len(names):
        raise ValueError(f"class names must be unique, got {names}")
    if any(("\n" in n or not n.strip()) for n in names):
        raise ValueError("class names must be non-empty single-line strings")
    path = os.path.join(data_dir, VOCABULARY_FILE)
    os.makedirs(data_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n in names))
    return path


def read_vocabulary(data_dir: str) -> List[str]:
    path = os.path.join(data_dir, VOCABULARY_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: a snout dataset needs its class names beside the records "
            "(make one with `snout ingest`)"
        )
    with open(path, encoding="utf-8") as f:
        names = [line.rstrip("\n") for line in f if line.strip()]
    if len(names) < 2:
        raise ValueError(f"{path} lists {len(names)} class(es); a classifier needs at least 2")
    return names


def read_summary(data_dir: str) -> dict:
    path = os.path.join(data_dir, SUMMARY_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def split_files(data_dir: str, split: str) -> List[str]:
    split_dir = os.path.join(data_dir, split)
    if not os.path.isdir(split_dir):
        return []
    return sorted(
        os.path.join(split_dir, n) for n in os.listdir(split_dir) if n.endswith(RECORD_SUFFIXES)
    )
