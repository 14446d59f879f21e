"""The temperature is in the exported graph (trainer/export.py): every signature and the pixel function
the TFLite export converts give softmax(log p / T); Grad-CAM maps ride along as a saved function."""

import numpy as np
import pytest

import trainer.keras_compat as keras_compat
import tensorflow as tf

import contract
from contract import lite as lite_contract
from tests.fixtures.serving import BLUE, RED, solid_image
from tests.fixtures.settings import head, network
from tests.fixtures.transform import transform_output
from trainer import calibration
from trainer.backbones import get_backbone
from trainer.export import export_serving_model
from trainer.model import build_classifier

SIZE = 32
SCALING = get_backbone("small_cnn").scaling


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{temperature: loaded SavedModel} of one small network, exported with T = 1 and T = 2.5."""
    keras = keras_compat.training_keras()
    tf.keras.utils.set_random_seed(0)
    model, _ = build_classifier(keras, num_classes=3, network=network(image_size=SIZE, backbone="small_cnn",
                                                                      weights="none"), head=head(head_units=8))
    found = {}
    for t in (1.0, 2.5):
        export_dir = str(tmp_path_factory.mktemp("export") / "model")
        export_serving_model(model, transform_output(SIZE, SCALING), ["a", "b", "c"], export_dir,
                             provenance={}, input_scaling=SCALING, temperature=t)
        found[t] = tf.saved_model.load(export_dir)
    return found


def _images():
    return tf.constant([solid_image(RED), solid_image(BLUE), solid_image((90, 200, 40), "PNG")])


def test_every_path_is_tempered(exported):
    raw, hot = exported[1.0], exported[2.5]
    p = raw.signatures[contract.SIGNATURE_IMAGE_BYTES](**{contract.SERVING_IMAGE_INPUT: _images()})
    q = hot.signatures[contract.SIGNATURE_IMAGE_BYTES](**{contract.SERVING_IMAGE_INPUT: _images()})
    p, q = p[contract.OUTPUT_PROBABILITIES].numpy(), q[contract.OUTPUT_PROBABILITIES].numpy()
    np.testing.assert_allclose(q, calibration.tempered(p, 2.5), atol=1e-5)
    assert (q.max(1) < p.max(1)).all() and (q.argmax(1) == p.argmax(1)).all()  # flatter, same answer
    pixels = tf.cast(tf.random.stateless_uniform([2, SIZE, SIZE, 3], [1, 2], maxval=256, dtype=tf.int32), tf.uint8)
    lite_raw = getattr(raw, lite_contract.PIXELS_FUNCTION)(pixels).numpy()
    lite_hot = getattr(hot, lite_contract.PIXELS_FUNCTION)(pixels).numpy()
    np.testing.assert_allclose(lite_hot, calibration.tempered(lite_raw, 2.5), atol=1e-5)


def test_class_activation_maps_are_saved_beside_the_signatures(exported):
    model = exported[2.5]
    assert contract.CLASS_ACTIVATION_FUNCTION not in model.signatures  # TF Serving never sees it
    maps = getattr(model, contract.CLASS_ACTIVATION_FUNCTION)(_images(), tf.constant([0, 1, 2], tf.int64)).numpy()
    assert maps.shape == (3, SIZE // 16, SIZE // 16) and np.isfinite(maps).all()
    assert 0.0 <= maps.min() and maps.max() <= 1.0
