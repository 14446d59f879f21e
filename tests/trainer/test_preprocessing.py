"""preprocessing_fn through tensorflow-transform on a real Beam pipeline."""

import tempfile

import numpy as np
import pytest

import trainer.keras_compat  # noqa: F401
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from tests.fixtures.images import encoded, halves
from contract import IMAGE_KEY, LABEL_KEY, TRANSFORMED_IMAGE_KEY
from tests.fixtures.settings import transform_settings
from trainer.preprocessing import preprocessing_fn

SIZE = 32


def _transform(raw_examples, backbone="mobilenet_v2"):
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec({
        IMAGE_KEY: tf.io.FixedLenFeature([1], tf.string),
        LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64),
    }))
    with tft_beam.Context(temp_dir=tempfile.mkdtemp()):
        (transformed, _), _ = (
            (raw_examples, metadata)
            | tft_beam.AnalyzeAndTransformDataset(
                lambda inputs: preprocessing_fn(inputs, transform_settings(image_size=SIZE, backbone=backbone).to_config()))
        )
    return transformed


def _example(image_bytes, label):
    return {IMAGE_KEY: [image_bytes], LABEL_KEY: [label]}


def test_jpeg_png_gray_rgba_all_become_scaled_3_channel_images():
    red_blue = halves()
    gray = np.full((20, 30), 200, np.uint8)
    rgba = np.zeros((24, 24, 4), np.uint8)
    rgba[..., 1] = 255
    rgba[..., 3] = 255
    raw = [
        _example(encoded(red_blue, "JPEG", quality=100), 0),
        _example(encoded(red_blue, "PNG"), 1),
        _example(encoded(gray, "PNG", mode="L"), 0),
        _example(encoded(rgba, "PNG", mode="RGBA"), 1),
    ]
    out = _transform(raw)
    assert len(out) == 4
    images = [np.asarray(o[TRANSFORMED_IMAGE_KEY]).reshape(SIZE, SIZE, 3) for o in out]
    assert [int(np.asarray(o[LABEL_KEY]).ravel()[0]) for o in out] == [0, 1, 0, 1]
    for image in images:
        assert image.min() >= -1.0 and image.max() <= 1.0  # MobileNetV2 range
    png = images[1]
    # Left half red (R=255 -> +1, B=0 -> -1), right half blue: orientation and scaling kept.
    np.testing.assert_allclose(png[:, :8, 0], 1.0, atol=1e-3)
    np.testing.assert_allclose(png[:, :8, 2], -1.0, atol=1e-3)
    np.testing.assert_allclose(png[:, -8:, 2], 1.0, atol=1e-3)
    # JPEG of the same picture lands close to the PNG (lossy codec, same pixels).
    assert np.abs(images[0][:, :8] - png[:, :8]).mean() < 0.05
    # Grayscale 200 -> every channel 200/127.5 - 1.
    np.testing.assert_allclose(images[2], 200 / 127.5 - 1.0, atol=1e-3)
    # Opaque green RGBA -> green RGB (alpha dropped, not a 4th channel).
    np.testing.assert_allclose(images[3][..., 1], 1.0, atol=1e-3)
    np.testing.assert_allclose(images[3][..., 0], -1.0, atol=1e-3)


def test_unknown_backbone_is_rejected():
    with pytest.raises(ValueError, match="unknown backbone"):
        _transform([_example(encoded(halves(), "PNG"), 0)], backbone="resnet_9000")
