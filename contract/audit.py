"""What the embeddings step and the data audit write, and how their outputs are read.

Embeddings artifact (one per run; read by the audit, the Tuner's cached mode and phase 1):

  <uri>/embeddings.json                  {"feature_dim", "splits": {split: count}, "settings": {...}}
  <uri>/Split-<split>/features.npy       float32 [n, feature_dim]: the frozen base's pooled output
  <uri>/Split-<split>/labels.npy         int64 [n]
  <uri>/Split-<split>/sources.json       [n] each record's `source` ("" when the record has none)
  <uri>/Split-<split>/pixels.npy         float32 [n, len(PIXEL_CROPS), PIXEL_SIDE**2 * 3]: the model's input
                                         image, whole and its centre, averaged down to PIXEL_SIDE x PIXEL_SIDE
                                         (RGB): the near-copy check's pictures
  <uri>/Split-<split>/view-<k>.npy       float32 [n, feature_dim]: augmented view k (train split only)

Row i of a split is its i-th record in the order `split_record_files` lists the files.

Audit artifact (and `snout audit --out`): the CSV files below, audit.json with the counts, and
thumbnails/<split>-<index>.jpg of the images its findings name (for the report).
"""

from __future__ import annotations

import io
import json
from typing import Iterable, List, NamedTuple, Optional, Tuple

# MLMD artifact types of the Embeddings and DataAudit components. KFP's container entrypoint imports a
# custom type by this name (<module>.<Class>), so it is where the class is found (components/__init__.py).
EMBEDDINGS_TYPE = "components.Embeddings"
DATA_AUDIT_TYPE = "components.DataAudit"

EMBEDDINGS_FILE = "embeddings.json"
FEATURES_FILE = "features.npy"
LABELS_FILE = "labels.npy"
SOURCES_FILE = "sources.json"
VIEW_FILE = "view-{index}.npy"
PIXELS_FILE = "pixels.npy"
PIXEL_SIDE = 8
PIXEL_CROPS = (1.0, 0.9)  # the share of each side kept, centred: the whole image and its central 90%

AUDIT_FILE = "audit.json"
LABEL_ISSUES_FILE = "label_issues.csv"
NEAR_DUPLICATES_FILE = "near_duplicates.csv"
OUTLIERS_FILE = "outliers.csv"
LEAKS_FILE = "leaks.csv"
THUMBNAILS_DIR = "thumbnails"
LABEL_ISSUES_COLUMNS = ("source", "split", "given", "suggested", "score")
NEAR_DUPLICATES_COLUMNS = ("source_a", "split_a", "source_b", "split_b", "similarity")
OUTLIERS_COLUMNS = ("source", "split", "given", "score")
# A validation or test image with a near-copy in train; the gate reads the test ones.
LEAKS_COLUMNS = ("source", "split", "train_source", "similarity")

# audit.json keys the gate reads.
LEAKED_TEST = "leaked_test"
TEST_IMAGES = "test_images"
LEAKED_TEST_INDICES = "leaked_test_indices"  # row numbers in the test split (record order)


class SplitEmbeddings(NamedTuple):
    features: "object"  # np.ndarray [n, d]
    labels: "object"  # np.ndarray [n]
    sources: List[str]
    views: List["object"]  # augmented views, each [n, d]
    pixels: "object"  # np.ndarray [n, len(PIXEL_CROPS), PIXEL_SIDE**2 * 3]


def split_dir(uri: str, split: str) -> str:
    return f"{uri.rstrip('/')}/Split-{split}"


def thumbnail_name(split: str, index: int) -> str:
    return f"{split}-{index}.jpg"


def _save_array(path: str, array) -> None:
    import numpy as np
    import tensorflow as tf

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(buffer.getvalue())


def _load_array(path: str):
    import numpy as np
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "rb") as f:
        return np.load(io.BytesIO(f.read()), allow_pickle=False)


def write_embeddings(uri: str, splits: Iterable[Tuple[str, SplitEmbeddings]], settings: dict) -> None:
    """Writes each (split, embeddings) as it comes (one split in memory at a time), then embeddings.json."""
    import tensorflow as tf

    dims, counts, views = 0, {}, {}
    for split, data in splits:
        folder = split_dir(uri, split)
        tf.io.gfile.makedirs(folder)
        _save_array(f"{folder}/{FEATURES_FILE}", data.features)
        _save_array(f"{folder}/{LABELS_FILE}", data.labels)
        _save_array(f"{folder}/{PIXELS_FILE}", data.pixels)
        for k, view in enumerate(data.views):
            _save_array(f"{folder}/{VIEW_FILE.format(index=k)}", view)
        with tf.io.gfile.GFile(f"{folder}/{SOURCES_FILE}", "w") as f:
            f.write(json.dumps(list(data.sources)))
        dims = int(data.features.shape[1]) if len(data.features.shape) == 2 else dims
        counts[split], views[split] = int(len(data.labels)), len(data.views)
    info = {"feature_dim": dims, "splits": counts, "views": views, "settings": settings}
    with tf.io.gfile.GFile(f"{uri.rstrip('/')}/{EMBEDDINGS_FILE}", "w") as f:
        f.write(json.dumps(info, indent=2, sort_keys=True))


def read_embeddings_info(uri: str) -> dict:
    import tensorflow as tf

    with tf.io.gfile.GFile(f"{uri.rstrip('/')}/{EMBEDDINGS_FILE}") as f:
        return json.loads(f.read())


def read_split_embeddings(uri: str, split: str, views: Optional[int] = None) -> SplitEmbeddings:
    """One split's features, labels, sources and (up to `views`, default all) augmented views."""
    import tensorflow as tf

    folder = split_dir(uri, split)
    stored = read_embeddings_info(uri).get("views", {}).get(split, 0)
    count = stored if views is None else min(views, stored)
    with tf.io.gfile.GFile(f"{folder}/{SOURCES_FILE}") as f:
        sources = json.loads(f.read())
    return SplitEmbeddings(_load_array(f"{folder}/{FEATURES_FILE}"), _load_array(f"{folder}/{LABELS_FILE}"), sources,
                           [_load_array(f"{folder}/{VIEW_FILE.format(index=k)}") for k in range(count)],
                           _load_array(f"{folder}/{PIXELS_FILE}"))


def read_audit(uri: str) -> dict:
    import tensorflow as tf

    with tf.io.gfile.GFile(f"{uri.rstrip('/')}/{AUDIT_FILE}") as f:
        return json.loads(f.read())
