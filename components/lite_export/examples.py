"""The records LiteExport reads from ExampleGen's artifact: the graded split, and a seeded train sample."""

from __future__ import annotations

import random
from typing import List, Tuple

import numpy as np
from tfx.types import artifact_utils
from tfx.utils import io_utils

import contract


def split_records(examples, split: str) -> List[bytes]:
    """The serialized tf.Examples of one split of an Examples artifact, in file order."""
    import tensorflow as tf

    if split not in artifact_utils.decode_split_names(examples.split_names):
        raise ValueError(f"the examples have no {split!r} split (they have {examples.split_names})")
    files = tf.io.gfile.glob(io_utils.all_files_pattern(artifact_utils.get_split_uri([examples], split)))
    dataset = tf.data.TFRecordDataset(sorted(files), compression_type="GZIP")  # ExampleGen writes gzip
    return list(dataset.as_numpy_iterator())


def images_and_labels(records: List[bytes]) -> Tuple[List[bytes], np.ndarray]:
    """(encoded images, int labels) of serialized tf.Examples."""
    import tensorflow as tf

    images, labels = [], []
    for raw in records:
        feature = tf.train.Example.FromString(raw).features.feature
        images.append(feature[contract.IMAGE_KEY].bytes_list.value[0])
        labels.append(feature[contract.LABEL_KEY].int64_list.value[0])
    return images, np.array(labels, dtype=np.int64)


def seeded_sample(items: list, count: int, seed: int) -> list:
    """`count` items drawn without replacement with `seed` (all of them, shuffled, if there are fewer)."""
    chosen = list(items)
    random.Random(seed).shuffle(chosen)
    return chosen[:count]
