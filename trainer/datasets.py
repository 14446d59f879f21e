"""tf.data input for training: raw records streamed from disk, run through the Transform graph.

Transform materialises nothing (pipeline/dag.py: materialize=False): its graph is applied
here, batch by batch, by the same TFT layer the exported model runs on raw bytes. So the
Trainer trains on exactly what serving computes, and nothing bigger than the ingested
JPEGs is ever written. Shuffling happens on the serialized records (small) before decoding,
with a new order every epoch from `seed`; nothing is cached, so memory does not grow with
the dataset.
"""

from typing import Optional

import tensorflow as tf
from tfx_bsl.public import tfxio

from contract import LABEL_KEY, TRANSFORMED_IMAGE_KEY

# Serialized records in the shuffle buffer: ~20 KB each for a photo, so ~40 MB.
SHUFFLE_BUFFER = 2048


def raw_batches(data_accessor, file_patterns, raw_schema, batch_size: int, shuffle: bool, seed: Optional[int]):
    """(raw features, label) batches; tfx_bsl reshuffles the records on every iteration (= Keras epoch)."""
    return data_accessor.tf_dataset_factory(
        file_patterns,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, label_key=LABEL_KEY, num_epochs=1, shuffle=shuffle,
            shuffle_seed=seed, shuffle_buffer_size=SHUFFLE_BUFFER,
        ),
        raw_schema,
    )


def transformed(raw, tft_layer):
    """Applies the Transform graph to each raw batch: (backbone-scaled images, labels)."""

    # Traced as written (no autograph conversion of the TFT layer's Keras internals): no Python
    # control flow on tensors here, and conversion costs seconds on every new dataset.
    @tf.autograph.experimental.do_not_convert
    def apply(features, label):
        return tft_layer(features)[TRANSFORMED_IMAGE_KEY], tf.reshape(label, [-1])

    return raw.map(apply, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def image_dataset(data_accessor, file_patterns, tf_transform_output, batch_size: int, shuffle: bool,
                  seed: Optional[int] = None):
    """One streamed pass over the raw split (Keras epochs re-iterate it), as the network's input.
    `seed` orders the shuffle (None: unshuffled reads need none)."""
    raw = raw_batches(data_accessor, file_patterns, tf_transform_output.raw_metadata.schema,
                      batch_size, shuffle, seed)
    return transformed(raw, tf_transform_output.transform_features_layer())
