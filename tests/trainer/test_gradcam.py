"""Grad-CAM on the base's last convolutional block (trainer/gradcam.py) finds what made the class.

A tiny convolutional base under snout's own head (model.build_classifier) learns "a bright
square on the left" vs "on the right" (the rest of the image is noise); the map of the true
class must then sit on the square's half, and the map of the other class must not.
"""

import numpy as np
import pytest

import trainer.keras_compat as keras_compat
import tensorflow as tf

from trainer.gradcam import class_activation_maps_fn
from trainer.model import HeadParams, build_classifier

SIZE = 32


def _images(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.uniform(-1, 0, (n, SIZE, SIZE, 3)).astype("float32")
    for image, label in zip(images, labels):
        y = rng.integers(4, SIZE - 10)
        x = rng.integers(2, SIZE // 2 - 8) + (SIZE // 2 if label else 0)
        image[y:y + 6, x:x + 6] = 1.0
    return images, labels


@pytest.fixture(scope="module")
def trained():
    keras = keras_compat.training_keras()
    tf.keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    base = keras.Model(inputs, x, name="tiny_base")  # last conv block: 16 x 16 x 16
    model, _ = build_classifier(keras, num_classes=2, image_size=SIZE, backbone="small_cnn", weights="none",
                                head=HeadParams(head_units=16, learning_rate=3e-3), base=base)
    images, labels = _images(256, 0)
    model.fit(images, labels, epochs=25, batch_size=32, verbose=0)
    return model


def test_map_of_the_true_class_covers_the_square(trained):
    images, labels = _images(40, 1)
    assert (trained.predict(images, verbose=0).argmax(1) == labels).mean() >= 0.9
    maps = class_activation_maps_fn(trained)
    assert maps is not None
    true_maps = maps(tf.constant(images), tf.constant(labels)).numpy()
    other_maps = maps(tf.constant(images), tf.constant(1 - labels)).numpy()
    assert true_maps.shape == (40, SIZE // 2, SIZE // 2) and 0.0 <= true_maps.min() and true_maps.max() <= 1.0
    half = SIZE // 4

    def share_on_square_side(m, label):
        left, right = m[:, :half].sum(), m[:, half:].sum()
        return (right if label else left) / max(left + right, 1e-9)

    shares = [share_on_square_side(m, y) for m, y in zip(true_maps, labels)]
    assert np.mean(shares) > 0.7, shares
    # The other class's evidence is not the square: its map (if any) does not concentrate there.
    assert np.mean([share_on_square_side(m, y) for m, y in zip(other_maps, labels)]) < np.mean(shares)


def test_no_maps_without_a_spatial_base():
    keras = keras_compat.training_keras()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(3)(inputs)))
    assert class_activation_maps_fn(model) is None
