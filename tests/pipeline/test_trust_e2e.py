"""Issue 22 on the shared tiny run: phase 2 continues phase 1, the exported model is calibrated
(the temperature in the graph, ECE before/after in gate.json), and it explains its mistakes."""

import json
import os

import numpy as np
import pytest

import trainer.keras_compat  # noqa: F401
import tensorflow as tf

import contract
import sample_data
from trainer import calibration

pytestmark = pytest.mark.e2e


def _history(run):
    with open(os.path.join(run.outcome.model_run_dir, "history.json")) as f:
        return json.load(f)


def _provenance(run):
    with open(os.path.join(run.outcome.pushed_dir, contract.MODEL_EXTRA_DIR, contract.MODEL_INFO_FILE)) as f:
        return json.load(f)


def test_first_fine_tune_epoch_continues_phase_one(first_pipeline_run):
    history = _history(first_pipeline_run)
    phase1, phase2 = history["phase1_head"], history["phase2_fine_tune"]
    best = history["phase1_best_epoch"]
    assert 1 <= best <= len(phase1["accuracy"])
    # Phase 2 starts from phase 1's kept epoch: its first epoch's training accuracy is within 0.1 of it.
    assert abs(phase2["accuracy"][0] - phase1["accuracy"][best - 1]) <= 0.1, (phase1, phase2, best)
    assert abs(phase2["accuracy"][0] - phase1["accuracy"][-1]) <= 0.1, (phase1, phase2)


def test_exported_probabilities_carry_the_validation_temperature(first_pipeline_run):
    run = first_pipeline_run
    provenance = _provenance(run)
    t = provenance["temperature"]
    assert t > 0 and t == pytest.approx(provenance["calibration"]["temperature"])
    assert provenance["calibration"]["examples"] == 2 * sample_data.split_counts(
        run.config.sample_images_per_class)[contract.VALIDATION_SPLIT]
    # gate.json: ECE on the test split before and after, with the same temperature.
    c = run.outcome.calibration
    assert c["temperature"] == pytest.approx(t) and 0 <= c["ece_after"] <= 1 and 0 <= c["ece_before"] <= 1
    assert sum(b["count"] for b in c["reliability_after"]) == run.outcome.example_count
    assert c["coverage"][0]["coverage"] == 1.0 and c["coverage"][0]["accuracy"] == pytest.approx(run.outcome.accuracy)


def test_served_probabilities_are_the_tempered_network(first_pipeline_run):
    """serving_default's output q is softmax(log p / T) of the raw network's p: untempering it with T and
    tempering again gives q back, and the temperature moves the confidence, never the answer."""
    run = first_pipeline_run
    t = _provenance(run)["temperature"]
    model = tf.saved_model.load(run.outcome.pushed_dir)
    photos = [p for kind in ("cat", "dog") for p in sample_data.sample_photos(run.config.sample_data_dir, kind)[:2]]
    images = [open(p, "rb").read() for p in photos]
    served = model.signatures[contract.SIGNATURE_IMAGE_BYTES](
        **{contract.SERVING_IMAGE_INPUT: tf.constant(images)})[contract.OUTPUT_PROBABILITIES].numpy()
    np.testing.assert_allclose(served.sum(1), 1.0, atol=1e-5)
    raw = calibration.tempered(served, 1.0 / t)  # softmax(T log q)
    np.testing.assert_allclose(calibration.tempered(raw, t), served, atol=1e-5)
    assert (raw.argmax(1) == served.argmax(1)).all()


def test_model_explains_itself_with_class_activation_maps(first_pipeline_run):
    run = first_pipeline_run
    model = tf.saved_model.load(run.outcome.pushed_dir)
    photo = sample_data.sample_photos(run.config.sample_data_dir, "cat")[0]
    maps = getattr(model, contract.CLASS_ACTIVATION_FUNCTION)(
        tf.constant([open(photo, "rb").read()] * 2), tf.constant([0, 1], tf.int64)).numpy()
    side = run.config.image_size // 32  # MobileNetV2's last block: stride 32
    assert maps.shape == (2, side, side) and np.isfinite(maps).all()
    assert 0.0 <= maps.min() and maps.max() <= 1.0 and maps.max() > 0
