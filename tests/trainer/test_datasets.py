"""Training input: raw records streamed through the Transform graph, reshuffled every epoch from --seed."""

import os

import numpy as np

import trainer.keras_compat  # noqa: F401
import tensorflow as tf
from tensorflow_transform.tf_metadata import schema_utils
from tfx.components.util import tfxio_utils
from tfx.types import standard_artifacts

import contract
from trainer.datasets import raw_batches, transformed

N = 64


def _accessor_and_schema(tmp_path):
    """A split of N records as ExampleGen writes them, and TFX's own dataset factory over it."""
    split_dir = tmp_path / "Split-train"
    split_dir.mkdir()
    with tf.io.TFRecordWriter(str(split_dir / "data.gz"), "GZIP") as writer:
        for i in range(N):
            writer.write(contract.make_example(f"img{i}".encode(), i).SerializeToString())
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path)
    examples.split_names = '["train"]'
    factory = tfxio_utils.get_tf_dataset_factory_from_artifact([examples], ["test"])

    class Accessor:
        tf_dataset_factory = staticmethod(factory)

    schema = schema_utils.schema_from_feature_spec({
        contract.IMAGE_KEY: tf.io.FixedLenFeature([1], tf.string),
        contract.LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64),
    })
    return Accessor, [os.path.join(str(split_dir), "*")], schema


def _epoch_orders(dataset, epochs=2):
    return [np.concatenate([label.numpy().reshape(-1) for _, label in dataset]).tolist() for _ in range(epochs)]


def test_every_epoch_is_a_new_shuffle_of_all_records_and_the_seed_decides_it(tmp_path):
    accessor, files, schema = _accessor_and_schema(tmp_path)
    first, second = _epoch_orders(raw_batches(accessor, files, schema, 8, shuffle=True, seed=1))
    assert sorted(first) == sorted(second) == list(range(N))
    assert first != second  # reshuffled, not a replay of the first epoch
    assert _epoch_orders(raw_batches(accessor, files, schema, 8, shuffle=True, seed=1))[0] == first
    assert _epoch_orders(raw_batches(accessor, files, schema, 8, shuffle=True, seed=2))[0] != first
    assert _epoch_orders(raw_batches(accessor, files, schema, 8, shuffle=False, seed=1))[0] == list(range(N))


def test_transform_layer_is_applied_per_batch_and_labels_are_flat(tmp_path):
    accessor, files, schema = _accessor_and_schema(tmp_path)

    def fake_transform_layer(features):  # stands in for TFT's layer: raw features -> transformed dict
        return {contract.TRANSFORMED_IMAGE_KEY: tf.strings.length(tf.reshape(features[contract.IMAGE_KEY], [-1]))}

    images, labels = next(iter(transformed(raw_batches(accessor, files, schema, 8, False, 1), fake_transform_layer)))
    assert labels.shape == (8,) and labels.numpy().tolist() == list(range(8))
    assert images.numpy().tolist() == [len(f"img{i}") for i in range(8)]
