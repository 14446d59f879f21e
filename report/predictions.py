"""The evaluated model run on a few graded images, for the report's mistake grids and top-k charts."""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

import contract
from report import reuse

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


def parse_example(record: bytes):
    """(encoded image, label) of one serialized tf.Example."""
    import tensorflow as tf

    features = tf.train.Example.FromString(record).features.feature
    return features[contract.IMAGE_KEY].bytes_list.value[0], int(features[contract.LABEL_KEY].int64_list.value[0])


def _read_examples(paths: List[str], limit: int):
    images, labels = [], []
    for record in contract.record_dataset(paths).take(limit):  # gzip or plain, by suffix
        image, label = parse_example(record.numpy())
        images.append(image)
        labels.append(label)
    return images, labels


def classify(model, images: List[bytes], num_classes: int) -> np.ndarray:
    """[N, C] probabilities of the exported model's serving signature (its own Transform graph) on encoded
    images; `model` is its directory or the loaded SavedModel."""
    import tensorflow as tf

    if isinstance(model, str):
        model = tf.saved_model.load(model)
    serve = model.signatures[contract.SIGNATURE_IMAGE_BYTES]
    chunks = [serve(**{contract.SERVING_IMAGE_INPUT: tf.constant(images[start:start + BATCH], dtype=tf.string)})
              [contract.OUTPUT_PROBABILITIES].numpy() for start in range(0, len(images), BATCH)]
    return np.concatenate(chunks) if chunks else np.zeros((0, num_classes))


def _model_run(model_dir: str, paths: List[str], max_images: int, num_classes: int) -> dict:
    import tensorflow as tf

    images, labels = _read_examples(paths, max_images)
    model = tf.saved_model.load(model_dir)
    probabilities = classify(model, images, num_classes)
    found = {"images": images, "labels": labels, "probabilities": probabilities.tolist(),
             "dtype": str(probabilities.dtype)}
    found.update(_heatmaps(model, images, labels, probabilities))
    return found


def _heatmaps(model, images: List[bytes], labels: List[int], probabilities: np.ndarray) -> dict:
    """Grad-CAM maps for the most confident mistakes, through the model's own saved function, as JSON fields."""
    from report import gradcam

    chosen = Predictions(labels=labels, probabilities=probabilities).mistakes_by_confidence()[:HEATMAP_MISTAKES]
    if not chosen:
        return {}
    start = time.time()
    maps = gradcam.compute(model, [images[i] for i in chosen], [int(probabilities[i].argmax()) for i in chosen],
                           [labels[i] for i in chosen])
    if maps is None:
        return {"heatmap_note": "the model has no class-activation function (exported before issue 22, "
                                "or a base without spatial feature maps)"}
    return {"heatmaps": [[int(i), np.asarray(a).tolist(), np.asarray(b).tolist()] for i, (a, b) in zip(chosen, maps)],
            "heatmap_seconds": time.time() - start}


def run_model(model_dir: Optional[str], examples_uri: Optional[str], data_dir: Optional[str], split: str,
              max_images: int, num_classes: int, cache_dir: Optional[str] = None) -> Predictions:
    """The model on the first `max_images` records, with Grad-CAM maps of its most confident mistakes;
    reused from `cache_dir` when neither the model's files nor the records changed (report/reuse.py)."""
    paths, source = _record_files(examples_uri, data_dir, split)
    if not model_dir or not os.path.isdir(model_dir):
        raise FileNotFoundError(f"no exported model at {model_dir}")
    key = reuse.key_of(reuse.model_identity(model_dir), reuse.files_identity(paths), max_images, num_classes)
    found = reuse.predictions(cache_dir, key, lambda: _model_run(model_dir, paths, max_images, num_classes))
    probabilities = (np.array(found["probabilities"], dtype=found["dtype"]) if found["probabilities"]
                     else np.zeros((0, num_classes)))
    heatmaps = {i: (np.asarray(a, np.float32), np.asarray(b, np.float32)) for i, a, b in found.get("heatmaps", [])}
    return Predictions(images=found["images"], labels=found["labels"], probabilities=probabilities,
                       model_dir=model_dir, examples_source=source, limit=max_images, split=split,
                       heatmaps=heatmaps, heatmap_seconds=found.get("heatmap_seconds"),
                       heatmap_note=found.get("heatmap_note", ""))
