"""Temperature scaling and expected calibration error (trainer/calibration.py), on generated predictions."""

import numpy as np
import pytest

from trainer import calibration


def _overconfident(n=4000, classes=10, sharpen=3.0, seed=0):
    """Labels drawn from softmax(z) (so softmax(z) is calibrated), and a model answering softmax(sharpen * z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, classes))
    true = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = np.array([rng.choice(classes, p=p) for p in true])
    model = np.exp(sharpen * z) / np.exp(sharpen * z).sum(1, keepdims=True)
    return model.astype("float32"), labels


def test_fitted_temperature_undoes_overconfidence():
    probabilities, labels = _overconfident(sharpen=3.0)
    t = calibration.fit_temperature(probabilities, labels)
    assert t == pytest.approx(3.0, rel=0.1)
    before = calibration.expected_calibration_error(probabilities, labels)
    after = calibration.expected_calibration_error(calibration.tempered(probabilities, t), labels)
    assert before > 0.15 and after < 0.03, (before, after)
    # The argmax, so the accuracy, does not move.
    assert (calibration.tempered(probabilities, t).argmax(1) == probabilities.argmax(1)).all()


def test_calibrated_model_keeps_temperature_near_one():
    probabilities, labels = _overconfident(sharpen=1.0, seed=1)
    assert calibration.fit_temperature(probabilities, labels) == pytest.approx(1.0, rel=0.1)


def test_saturated_probabilities_stay_finite():
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], "float32")
    labels = np.array([0, 1, 2])  # one confident mistake
    t = calibration.fit_temperature(p, labels)
    q = calibration.tempered(p, t)
    assert np.isfinite(t) and np.isfinite(q).all() and q.max() < 1.0


def test_no_mistake_on_validation_leaves_the_probabilities_as_they_are():
    """Every validation answer right (a small, easy split): the NLL falls without end as T -> 0, so nothing is
    fitted (the shared tiny run fitted T = 0.05, the bound, before: a model sharpened to certainty)."""
    p = np.array([[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]], "float32")
    assert calibration.fit_temperature(p, np.array([0, 1, 0])) == 1.0
    assert calibration.fit_temperature(p, np.array([0, 1, 1])) != 1.0  # one mistake: a fit


def test_ece_by_hand():
    # Bin [0.6, 0.667): two examples at 0.6, one right -> |0.5 - 0.6| weighted 2/3; bin of 0.9: one right -> 0.1.
    p = np.array([[0.6, 0.4], [0.6, 0.4], [0.9, 0.1]])
    labels = np.array([0, 1, 0])
    assert calibration.expected_calibration_error(p, labels) == pytest.approx((2 * 0.1 + 0.1) / 3)


def test_coarse_histogram_and_coverage_curve():
    rng = np.random.default_rng(2)
    confidence = rng.uniform(0.2, 1.0, 1000)
    correct = rng.uniform(size=1000) < confidence  # calibrated by construction
    fine = calibration.histogram(confidence, correct, 150)
    for coarse, direct in zip(calibration.coarsen(*fine, 15), calibration.histogram(confidence, correct, 15)):
        np.testing.assert_allclose(coarse, direct)
    curve = calibration.coverage_curve(fine[0], fine[1])
    assert curve[0]["coverage"] == 1.0 and curve[0]["accuracy"] == pytest.approx(correct.mean())
    kept = [c for c in curve if c["coverage"] > 0.1]
    # Raising the threshold keeps fewer examples and, for a calibrated model, more of them are right.
    assert all(a["coverage"] >= b["coverage"] for a, b in zip(curve, curve[1:]))
    assert kept[-1]["accuracy"] > curve[0]["accuracy"] + 0.1
