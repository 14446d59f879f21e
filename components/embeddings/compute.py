"""The frozen base's pooled features of every record of every split, plus augmented views, plus each
image averaged down to 8 x 8 (the audit's near-copy check).

The same code path as the Trainer's phase 1 and the Tuner's cached mode (trainer/head_search's
embedder on the base trainer/model.build_base builds), on the images
Transform's graph makes (or, outside the pipeline, Transform's own ops: `snout audit`). Records are
read in file order, so row i of a split is its i-th record (contract/audit.py).
"""

from __future__ import annotations

import gc
import time
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import numpy as np

import contract
from contract.audit import PIXEL_CROPS, PIXEL_SIDE, SplitEmbeddings
from components.embeddings.settings import EmbeddingsSettings

BATCH_SIZE = 64  # does not change the features, so it is no setting (and not in the cache key)


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
                       log: Callable[[str], None] = print) -> Iterator[Tuple[str, SplitEmbeddings]]:
    """(split, its features and views of settings.view_split), one split at a time (the caller writes each
    and drops it): one base pass per image and view. When the last split is out, the base is released."""
    from trainer import keras_compat
    from trainer.augmentation import augmentation_layers
    from trainer.head_search import embedder
    from trainer.model import build_base

    keras = keras_compat.training_keras()
    base = plain = augmented = None
    try:
        base = build_base(keras, settings.network)
        plain = embedder(keras, base)  # traced once for all splits, not once per split
        augmenter = augmentation_layers(keras, settings.network.scaling, settings.augment_strength,
                                        seed=settings.seed)
        if augmenter is not None and settings.augmented_views > 0:
            augmented = embedder(keras, base, augmenter)
        for split, files in split_files.items():
            yield split, _split_embeddings(settings, split, files, to_images, plain, augmented, log)
    finally:
        base = plain = augmented = None  # this frame's references, or clear_session frees nothing
        keras.backend.clear_session()
        free_memory()


def _split_embeddings(settings: EmbeddingsSettings, split: str, files: List[str], to_images: Callable, plain,
                      augmented, log: Callable[[str], None]) -> SplitEmbeddings:
    from trainer.head_search import embed_dataset, pooled_features

    start = time.time()
    features, labels, pixels = embed_dataset(image_batches(files, to_images), plain, also=small_pictures)
    views = []
    if split == settings.view_split and augmented is not None:
        views = [v[0].astype(np.float32) for v in pooled_features(
            None, [image_batches(files, to_images)] * settings.augmented_views, settings.network, embed=augmented)]
    log(f"[snout] embeddings: {split} {len(labels)} images x {1 + len(views)} view(s), "
        f"{features.shape[1] if len(features.shape) == 2 else 0} features, in {time.time() - start:.1f}s")
    return SplitEmbeddings(features.astype(np.float32), labels.astype(np.int64), source_strings(files), views,
                           pixels)


def small_pictures(images):
    """[batch, len(PIXEL_CROPS), PIXEL_SIDE**2 * 3]: each image's centre crops averaged down to
    PIXEL_SIDE x PIXEL_SIDE (the audit's near-copy check: contract/audit.py)."""
    import tensorflow as tf

    crops = [images if share == 1.0 else tf.image.central_crop(images, share) for share in PIXEL_CROPS]
    small = [tf.image.resize(crop, [PIXEL_SIDE, PIXEL_SIDE], method="area") for crop in crops]
    return tf.stack([tf.reshape(s, [tf.shape(s)[0], -1]) for s in small], axis=1)


def free_memory() -> None:
    """Collects what is no longer referenced and hands freed heap back: the pipeline runs every component
    in one process (LocalDagRunner), and the Trainer builds its own network next."""
    gc.collect()
    _return_freed_memory()


def _return_freed_memory() -> None:
    """glibc keeps freed heap pages in its arenas (TensorFlow's many threads each have one): hand them
    back to the system, so the process's RSS falls to what is still in use. No-op elsewhere."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass
