"""Augmentation trains, never serves."""

import numpy as np

import trainer.keras_compat as keras_compat
from trainer.augmentation import augmentation_layers
from tests.fixtures.settings import head, network
from trainer.model import build_classifier, with_augmentation


def test_augmentation_wraps_only_the_training_model():
    keras = keras_compat.training_keras()
    classifier, _ = build_classifier(keras, num_classes=2, network=network(image_size=32, backbone="small_cnn",
                                                                           weights="none"), head=head(head_units=8))
    augmenter = augmentation_layers(keras, "zero_to_one", 1.0, seed=7)
    training_model = with_augmentation(keras, classifier, augmenter)
    assert "augmentation" in [l.name for l in training_model.layers]
    assert "augmentation" not in [l.name for l in classifier.layers]
    # Shared weights: training the wrapper trains the exported classifier.
    assert {id(w) for w in classifier.weights} <= {id(w) for w in training_model.weights}
    images = np.random.default_rng(0).uniform(0, 1, (4, 32, 32, 3)).astype("float32")
    augmented = augmenter(images, training=True).numpy()
    assert not np.allclose(augmented, images)  # it does something in training
    np.testing.assert_allclose(augmenter(images, training=False).numpy(), images)  # and nothing otherwise


def test_strength_zero_means_no_augmentation():
    assert augmentation_layers(keras_compat.training_keras(), "minus_one_to_one", 0, seed=7) is None


def test_backbones_build_with_their_scaling():
    import tensorflow as tf

    from trainer.backbones import scale_pixels

    keras = keras_compat.training_keras()
    for name in ("efficientnet_b0", "vgg16", "small_cnn"):
        model, base = build_classifier(keras, num_classes=3, network=network(image_size=32, backbone=name,
                                                                             weights="none"), head=head(head_units=8))
        assert model.output_shape == (None, 3)
        assert base.trainable == (name == "small_cnn")  # pretrained bases start frozen
    pixels = tf.constant([[[[255.0, 0.0, 0.0]]]])
    np.testing.assert_allclose(scale_pixels(tf, pixels, "caffe_bgr").numpy().ravel(),
                               [-103.939, -116.779, 255 - 123.68], rtol=1e-5)
