"""The evaluated model run on a few graded images, for the report's mistake grids and top-k charts."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

import contract
from report import reuse

DEFAULT_MAX_IMAGES = 200
BATCH = 32


@dataclass
class Predictions:
    """The evaluated model run on (at most `limit`) images of the graded split."""
    images: List[bytes] = field(default_factory=list)  # encoded JPEG/PNG
    labels: List[int] = field(default_factory=list)
    probabilities: Optional[np.ndarray] = None  # [N, C]
    model_dir: str = ""
    examples_source: str = ""
    limit: int = DEFAULT_MAX_IMAGES
    split: str = contract.TEST_SPLIT

    @property
    def predicted(self) -> np.ndarray:
        return np.argmax(self.probabilities, axis=1) if self.probabilities is not None else np.zeros(0, int)

    @property
    def wrong(self) -> List[int]:
        return [i for i, (p, t) in enumerate(zip(self.predicted, self.labels)) if int(p) != int(t)]


def _record_files(examples_uri: Optional[str], data_dir: Optional[str], split: str):
    """(files, folder): ExampleGen's Split-<split> output, else the dataset's <split>/ folder."""
    if examples_uri:
        folder = os.path.join(examples_uri, f"Split-{split}")
        files = sorted(glob.glob(os.path.join(folder, "*")))
        if files:
            return files, folder
    if data_dir and contract.split_files(data_dir, split):
        return contract.split_files(data_dir, split), os.path.join(data_dir, split)
    raise FileNotFoundError(f"no {split} records found (ExampleGen Split-{split} or <data>/{split})")


def _read_examples(paths: List[str], limit: int):
    import tensorflow as tf

    images, labels = [], []
    for record in contract.record_dataset(paths).take(limit):  # gzip or plain, by suffix
        features = tf.train.Example.FromString(record.numpy()).features.feature
        images.append(features[contract.IMAGE_KEY].bytes_list.value[0])
        labels.append(int(features[contract.LABEL_KEY].int64_list.value[0]))
    return images, labels


def _model_run(model_dir: str, paths: List[str], max_images: int, num_classes: int) -> dict:
    import tensorflow as tf

    images, labels = _read_examples(paths, max_images)
    serve = tf.saved_model.load(model_dir).signatures[contract.SIGNATURE_IMAGE_BYTES]
    chunks = [serve(**{contract.SERVING_IMAGE_INPUT: tf.constant(images[start:start + BATCH], dtype=tf.string)})
              [contract.OUTPUT_PROBABILITIES].numpy() for start in range(0, len(images), BATCH)]
    probabilities = np.concatenate(chunks) if chunks else np.zeros((0, num_classes))
    return {"images": images, "labels": labels, "probabilities": probabilities.tolist(),
            "dtype": str(probabilities.dtype)}


def run_model(model_dir: Optional[str], examples_uri: Optional[str], data_dir: Optional[str], split: str,
              max_images: int, num_classes: int, cache_dir: Optional[str] = None) -> Predictions:
    """The model on the first `max_images` records; reused from `cache_dir` when neither the model's
    files nor the records changed (report/reuse.py)."""
    paths, source = _record_files(examples_uri, data_dir, split)
    if not model_dir or not os.path.isdir(model_dir):
        raise FileNotFoundError(f"no exported model at {model_dir}")
    key = reuse.key_of(reuse.model_identity(model_dir), reuse.files_identity(paths), max_images, num_classes)
    found = reuse.predictions(cache_dir, key, lambda: _model_run(model_dir, paths, max_images, num_classes))
    probabilities = (np.array(found["probabilities"], dtype=found["dtype"]) if found["probabilities"]
                     else np.zeros((0, num_classes)))
    return Predictions(images=found["images"], labels=found["labels"], probabilities=probabilities,
                       model_dir=model_dir, examples_source=source, limit=max_images, split=split)
