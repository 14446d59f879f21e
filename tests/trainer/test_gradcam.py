"""Grad-CAM on the base's last convolutional block (trainer/gradcam.py) finds what made the class.

A tiny convolutional base under snout's own head (model.build_classifier) learns "a filled
bright square" vs "a hollow one", each at a random place on noise; the map of the true class
must then sit on the object, which covers a few percent of the image.
"""

import numpy as np
import pytest

import trainer.keras_compat as keras_compat
import tensorflow as tf

from tests.fixtures.settings import head, network
from trainer import training
from trainer.gradcam import class_activation_maps_fn
from trainer.model import build_classifier

SIZE = 32


def _images(n, seed):
    """(images, labels, object boxes (y, x, size)): class 0 a filled square, class 1 a hollow one."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.uniform(-1, -0.2, (n, SIZE, SIZE, 3)).astype("float32")
    boxes = []
    for image, label in zip(images, labels):
        y, x = rng.integers(1, SIZE - 9, 2)
        image[y:y + 8, x:x + 8] = 1.0
        if label:
            image[y + 2:y + 6, x + 2:x + 6] = -1.0
        boxes.append((y, x, 8))
    return images, labels, boxes


@pytest.fixture(scope="module")
def trained():
    keras = keras_compat.training_keras()
    tf.keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    base = keras.Model(inputs, x, name="tiny_base")  # last conv block: 16 x 16 x 16
    model, _ = build_classifier(keras, num_classes=2, network=network(image_size=SIZE, backbone="small_cnn",
                                                                      weights="none"),
                                head=head(head_units=16, learning_rate=3e-3), base=base)
    images, labels, _ = _images(256, 0)
    training.without_autograph(model).fit(images, labels, epochs=20, batch_size=32, verbose=0)  # no autograph: seconds
    return model


def test_map_of_the_true_class_covers_the_object(trained):
    images, labels, boxes = _images(40, 1)
    assert (trained.predict(images, verbose=0).argmax(1) == labels).mean() >= 0.9
    maps = class_activation_maps_fn(trained)
    assert maps is not None
    found = maps(tf.constant(images), tf.constant(labels)).numpy()
    assert found.shape == (40, SIZE // 2, SIZE // 2) and 0.0 <= found.min() and found.max() <= 1.0
    shares = []
    for m, (y, x, size) in zip(found, boxes):  # map cells are 2x2 pixels; one cell of margin around the object
        y0, x0, y1, x1 = max(0, y // 2 - 1), max(0, x // 2 - 1), (y + size) // 2 + 1, (x + size) // 2 + 1
        shares.append(m[y0:y1, x0:x1].sum() / max(m.sum(), 1e-9))
    # The window is ~10% of the map: a map spread evenly would put ~0.1 of its mass there.
    assert np.mean(shares) > 0.5, shares


def test_no_maps_without_a_spatial_base():
    keras = keras_compat.training_keras()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(3)(inputs)))
    assert class_activation_maps_fn(model) is None
