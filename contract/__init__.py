"""The contract every part of snout agrees on: record format, feature keys, serving names.

This is the bottom layer: it imports nothing of snout, and everything else imports its
names from here instead of spelling them again.

Record format. ExampleGen reads, the ingest converter and the sample-data maker write, and
Transform parses the same `tf.train.Example`:

  image: bytes_list, one encoded JPEG or PNG (3-channel 8-bit after ingest)
  label: int64_list, one class index into the vocabulary
  source: bytes_list, optional: the image's path relative to the photo collection it came from
          (UTF-8, "/"-separated, as in ingest's manifest.tsv), so a finding names a file to open

Beside the records of a dataset lies `labels.txt`: one class name per line, the
line number (from 0) being the class index. A dataset directory looks like

  <data_dir>/labels.txt
  <data_dir>/summary.json          (optional: counts, skips, provenance)
  <data_dir>/train/*.tfrecord
  <data_dir>/validation/*.tfrecord
  <data_dir>/test/*.tfrecord

Every writer (`snout ingest`, the generated sample set) writes uncompressed `.tfrecord` files
(`record_writer`); every reader also takes gzip `.tfrecord.gz` (`record_dataset`).
"""

from __future__ import annotations

import json
import os
import unicodedata
from typing import List, Optional, Sequence

# Feature keys: raw records, and Transform's output.
IMAGE_KEY = "image"
LABEL_KEY = "label"
SOURCE_KEY = "source"  # optional; datasets made before it have none
TRANSFORMED_IMAGE_KEY = "image_xf"

# Serving contract: input and output names and signatures of the exported model.
SERVING_IMAGE_INPUT = "image_bytes"
SERVING_EXAMPLES_INPUT = "examples"
CLASSIFY_INPUT = "inputs"
OUTPUT_PROBABILITIES = "probabilities"
OUTPUT_CLASS_INDEX = "class_index"
OUTPUT_CLASS_NAME = "class_name"
# The image-bytes signature is TF Serving's default one: a request that names no signature gets it.
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
# Beside the signatures (not one: TF Serving never calls it), a saved function the report calls:
# (image_bytes string[N], class_index int64[N]) -> Grad-CAM maps float32[N, h, w] in [0, 1].
CLASS_ACTIVATION_FUNCTION = "class_activation_maps"
# The label `snout predict --min-confidence P` writes for an image whose top probability is below P.
UNSURE_LABEL = "unsure"

# The decompression-bomb guard, one value for ingest, the exported model and `snout serve`:
# an image whose header declares more pixels than this is refused before decoding
# (Pillow's own threshold, ~ 9459 x 9459).
MAX_IMAGE_PIXELS = 89_478_485

# Magic bytes of the encoded formats the exported model decodes (tf.io.decode_image): the one
# table for the model's guard, `snout serve`/clients and ingest (which reads more formats, re-encoding them).
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


def image_format(data: bytes) -> Optional[str]:
    """JPEG/PNG/GIF/BMP (what the model decodes) from the magic bytes, else None."""
    for magic, name in IMAGE_SIGNATURES:
        if data.startswith(magic):
            return name
    return None

# Dataset layout.
VOCABULARY_FILE = "labels.txt"
SUMMARY_FILE = "summary.json"
TRAIN_SPLIT = "train"            # fits the model
VALIDATION_SPLIT = "validation"  # chooses it: early stopping, best epoch, phase-2 keep, tuner objective
TEST_SPLIT = "test"              # grades it: the only split the Evaluator gates on
SPLITS = (TRAIN_SPLIT, VALIDATION_SPLIT, TEST_SPLIT)
# Datasets of snout before the three splits had train/ + eval/: recognised only to ask for a new
# `snout ingest` (cli/run.py), which may then replace such a dataset (ingest/output.py).
OLD_LAYOUT_EVAL_DIR = "eval"
RECORD_SUFFIX = ".tfrecord"      # what every writer writes: uncompressed (JPEG bytes don't compress)
RECORD_SUFFIXES = (RECORD_SUFFIX, ".tfrecord.gz")  # what every reader takes: gzip records too
RECORD_PATTERN = "*.tfrecord*"   # ImportExampleGen's pattern: Beam picks the compression by suffix


def record_compression(path: str) -> str:
    """The TFRecord compression of a record file, from its suffix ("GZIP" or "" for none)."""
    return "GZIP" if path.endswith(".gz") else ""


def record_writer(path: str):
    """A tf.io.TFRecordWriter in snout's record format: the one way a dataset's records are written."""
    import tensorflow as tf

    return tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression_type=record_compression(RECORD_SUFFIX)))


def record_dataset(files: Sequence[str]):
    """tf.data.Dataset of the serialized records of `files` in order, each read with its own compression."""
    import tensorflow as tf

    names = tf.constant(list(files), dtype=tf.string)
    compressions = tf.constant([record_compression(f) for f in files], dtype=tf.string)
    return tf.data.Dataset.from_tensor_slices((names, compressions)).flat_map(
        lambda name, compression: tf.data.TFRecordDataset(name, compression_type=compression)
    )


def make_example(encoded_image: bytes, label: int, source: Optional[str] = None):
    """Builds the tf.train.Example for one image (import of TF kept local); `source`: see SOURCE_KEY."""
    import tensorflow as tf

    feature = {
        IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded_image])),
        LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
    }
    if source is not None:
        feature[SOURCE_KEY] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[source.encode("utf-8")]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def class_name_problem(name: str) -> Optional[str]:
    """Why `name` cannot be a class name (None if it can).

    labels.txt holds one name per line, so a name must be non-blank and free of control
    characters and line/paragraph separators (any of which would split or hide a line).
    """
    if not name.strip():
        return "blank"
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            return f"contains the control character U+{ord(ch):04X}"
    return None


def class_list_difference(found: Sequence[str], expected: Sequence[str]) -> Optional[str]:
    """How class list `found` differs from `expected`, or None when they are the same list.

    The one comparison of class lists (labels.txt vs the schema, the run's names vs the data's,
    a baseline model's vs the candidate's): order counts, as class index i means name i.
    Each caller says in its own words what was compared and what to do.
    """
    found, expected = list(found), list(expected)
    if found == expected:
        return None
    if sorted(found) == sorted(expected):
        return "the same classes in another order (label indices would change meaning)"
    added = [n for n in found if n not in expected]
    missing = [n for n in expected if n not in found]
    parts = [f"{_some(added)} added" if added else "", f"{_some(missing)} missing" if missing else ""]
    return ", ".join(p for p in parts if p) or f"{len(found)} names for {len(expected)} classes"


def _some(names: Sequence[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def write_vocabulary(data_dir: str, class_names: Sequence[str]) -> str:
    """Writes labels.txt: one name per line, "\n"-terminated, UTF-8; refuses names that would not read back."""
    names = list(class_names)
    if len(set(names)) != len(names):
        raise ValueError(f"class names must be unique, got {names}")
    for name in names:
        problem = class_name_problem(name)
        if problem:
            raise ValueError(f"class name {name!r} is {problem}: it cannot be a line of {VOCABULARY_FILE}")
    path = os.path.join(data_dir, VOCABULARY_FILE)
    os.makedirs(data_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(n + "\n" for n in names))
    return path


def read_vocabulary(data_dir: str) -> List[str]:
    """The class names of labels.txt, exactly as written: lines split on "\n" only, nothing stripped."""
    path = os.path.join(data_dir, VOCABULARY_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: a snout dataset needs its class names beside the records "
            "(make one with `snout ingest`)"
        )
    with open(path, encoding="utf-8", newline="") as f:  # newline="": keep a "\r" as the error it is
        return parse_vocabulary(f.read(), path)


def parse_vocabulary(text: str, source: str = VOCABULARY_FILE) -> List[str]:
    """labels.txt's text -> class names; ValueError naming `source` and the line for anything unexpected."""
    names = text.split("\n")
    if names and names[-1] == "":
        names.pop()  # the final newline
    for line_no, name in enumerate(names, start=1):
        problem = class_name_problem(name)
        if problem:
            raise ValueError(f"{source} line {line_no} ({name!r}) is {problem}; one class name per line")
    if len(set(names)) != len(names):
        raise ValueError(f"{source} lists a class name twice")
    if len(names) < 2:
        raise ValueError(f"{source} lists {len(names)} class(es); a classifier needs at least 2")
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
