"""The evaluated model run on a few graded images, for the report's mistake grids and top-k charts."""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

import contract

DEFAULT_MAX_IMAGES = 200
BATCH = 32
HEATMAP_MISTAKES = 24  # the most confident mistakes get Grad-CAM maps (report/gradcam.py)


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
    # index -> (Grad-CAM map of the predicted class, of the true class), for the first HEATMAP_MISTAKES
    # of mistakes_by_confidence(); empty when the model has no maps (the reason in heatmap_note).
    heatmaps: Dict[int, Tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    heatmap_seconds: Optional[float] = None
    heatmap_note: str = ""

    @property
    def predicted(self) -> np.ndarray:
        return np.argmax(self.probabilities, axis=1) if self.probabilities is not None else np.zeros(0, int)

    @property
    def wrong(self) -> List[int]:
        return [i for i, (p, t) in enumerate(zip(self.predicted, self.labels)) if int(p) != int(t)]

    def mistakes_by_confidence(self) -> List[int]:
        """The misclassified images, most confident first (the mistakes grid's order)."""
        if self.probabilities is None:
            return []
        confidence = self.probabilities.max(axis=1)
        return sorted(self.wrong, key=lambda i: -confidence[i])


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


def run_model(model_dir: Optional[str], examples_uri: Optional[str], data_dir: Optional[str], split: str,
              max_images: int, num_classes: int) -> Predictions:
    import tensorflow as tf

    paths, source = _record_files(examples_uri, data_dir, split)
    if not model_dir or not os.path.isdir(model_dir):
        raise FileNotFoundError(f"no exported model at {model_dir}")
    images, labels = _read_examples(paths, max_images)
    model = tf.saved_model.load(model_dir)
    serve = model.signatures[contract.SIGNATURE_IMAGE_BYTES]
    chunks = [serve(**{contract.SERVING_IMAGE_INPUT: tf.constant(images[start:start + BATCH], dtype=tf.string)})
              [contract.OUTPUT_PROBABILITIES].numpy() for start in range(0, len(images), BATCH)]
    probabilities = np.concatenate(chunks) if chunks else np.zeros((0, num_classes))
    found = Predictions(images=images, labels=labels, probabilities=probabilities, model_dir=model_dir,
                        examples_source=source, limit=max_images, split=split)
    _heatmaps(model, found)
    return found


def _heatmaps(model, found: Predictions) -> None:
    """Grad-CAM maps for the most confident mistakes, through the model's own saved function."""
    from report import gradcam

    chosen = found.mistakes_by_confidence()[:HEATMAP_MISTAKES]
    if not chosen:
        return
    start = time.time()
    maps = gradcam.compute(model, [found.images[i] for i in chosen], [int(found.predicted[i]) for i in chosen],
                           [found.labels[i] for i in chosen])
    if maps is None:
        found.heatmap_note = ("the model has no class-activation function (exported before issue 22, "
                              "or a base without spatial feature maps)")
        return
    found.heatmaps = dict(zip(chosen, maps))
    found.heatmap_seconds = time.time() - start
