"""snout's Evaluator executor on real TFMA runs: the gate's decisions, their sentences and numbers,
per-class metrics of the argmax, the served baseline, and a regression that is not pushed."""

import json
import os

import numpy as np
import pytest
from tfx.components.evaluator import constants
from tfx.types import standard_artifacts

import contract
from contract import evaluation as ev
from tests.fixtures.evaluation import example_bytes, export_model, model_artifact, run_evaluator, write_examples

CLASSES = [f"breed_{i}" for i in range(8)]
N_TEST, N_VALIDATION = 48, 16


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluator")
    examples = write_examples(str(root / "examples"), {contract.TEST_SPLIT: N_TEST,
                                                       contract.VALIDATION_SPLIT: N_VALIDATION}, len(CLASSES))
    # Without a validation split: the Evaluator grades and reports the test split only.
    test_only = write_examples(str(root / "test_only"), {contract.TEST_SPLIT: N_TEST}, len(CLASSES))
    test = lambda *ids: [example_bytes(contract.TEST_SPLIT, i) for i in ids]  # noqa: E731
    models = {
        "perfect": export_model(str(root / "perfect" / "Format-Serving"), CLASSES),
        # 7 of 48 wrong: accuracy 0.854 passes --min-accuracy 0.8, but the perfect baseline is right on all 7.
        "regressed": export_model(str(root / "regressed" / "Format-Serving"), CLASSES,
                                  test(*range(7)) + [example_bytes(contract.VALIDATION_SPLIT, 0)]),
        # Wrong on examples 1 and 2 of the test split; the baseline below is wrong on 0: noise.
        "noisy": export_model(str(root / "noisy" / "Format-Serving"), CLASSES, test(1, 2)),
        "baseline_wrong_on_0": export_model(str(root / "baseline0" / "Format-Serving"), CLASSES, test(0)),
        "other_classes": export_model(str(root / "other" / "Format-Serving"), ["cat", "dog", "fox"]),
    }
    return root, examples, test_only, models


@pytest.fixture(scope="module")
def regressed(inputs):
    """The regressed candidate against the perfect baseline (one TFMA run shared by two tests)."""
    root, examples, _, models = inputs
    return _evaluate(root, examples, models["regressed"], "regressed", baseline_dir=models["perfect"])


def _evaluate(root, examples, candidate_dir, name, baseline_dir=None, served_dir=None, max_drop=0.0):
    inputs = {"examples": [examples], "model": [model_artifact(os.path.dirname(candidate_dir))]}
    if baseline_dir:
        inputs["baseline_model"] = [model_artifact(os.path.dirname(baseline_dir))]
    return run_evaluator(root / name, inputs, num_classes=len(CLASSES), min_accuracy=0.8, max_accuracy_drop=max_drop,
                         served_model_dir=served_dir)


def _check(result, name):
    return next(c for c in result.checks if c.name == name)


def test_a_significant_regression_passing_min_accuracy_is_refused_and_not_pushed(inputs, regressed, tmp_path):
    models = inputs[-1]
    result, evaluation, blessing = regressed
    accuracy = _check(result, "min_accuracy")
    assert accuracy.passed and accuracy.value == pytest.approx(41 / 48)
    regression = _check(result, "no_regression")
    assert regression.applied and not regression.passed and not result.blessed
    assert regression.numbers["baseline_only_correct"] == 7 and regression.numbers["candidate_only_correct"] == 0
    assert regression.numbers["p_value"] == pytest.approx(0.5 ** 7)
    assert regression.numbers["baseline_accuracy"] == pytest.approx(1.0)
    for words in ("accuracy 0.8542 vs baseline 1.0000", "48 test examples", "overall slice", "p = 0.0078"):
        assert words in regression.sentence
    assert "{" not in regression.sentence and "double_value" not in regression.sentence
    assert os.path.isfile(os.path.join(blessing.uri, constants.NOT_BLESSED_FILE_NAME))
    assert not os.path.exists(os.path.join(blessing.uri, constants.BLESSED_FILE_NAME))
    assert blessing.get_int_custom_property("blessed") == 0
    # The validation split, reported beside the test split: 1 mistake of 16.
    assert result.validation["split"] == contract.VALIDATION_SPLIT
    assert result.validation[ev.ACCURACY] == pytest.approx(15 / 16)
    assert result.validation[ev.EXAMPLE_COUNT] == N_VALIDATION

    # The Pusher refuses the not-blessed model: nothing is written under the serving dir.
    from components.pusher import IdempotentPusherExecutor
    from tfx.proto import pusher_pb2
    from tfx.utils import proto_utils

    serving = tmp_path / "serving" / "snout"
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed")
    destination = pusher_pb2.PushDestination(filesystem=pusher_pb2.PushDestination.Filesystem(
        base_directory=str(serving)))
    IdempotentPusherExecutor().Do(
        {"model": [model_artifact(os.path.dirname(models["regressed"]))], "model_blessing": [blessing]},
        {"pushed_model": [pushed]}, {"push_destination": proto_utils.proto_to_json(destination)})
    assert pushed.get_int_custom_property("pushed") == 0
    assert not serving.exists() or not os.listdir(serving)


def test_per_class_metrics_are_the_argmax_and_agree_with_the_confusion_matrix(regressed):
    result, evaluation, _ = regressed
    from report.metrics import read_evaluation

    labels = np.arange(N_TEST) % len(CLASSES)
    predicted = np.where(np.arange(N_TEST) < 7, (labels + 1) % len(CLASSES), labels)
    expected = np.zeros((len(CLASSES), len(CLASSES)), int)
    np.add.at(expected, (labels, predicted), 1)
    summary = read_evaluation(evaluation.uri, CLASSES)
    np.testing.assert_array_equal(summary.confusion, expected)
    assert summary.accuracy == pytest.approx(np.trace(expected) / N_TEST)
    per_class = summary.per_class
    for i, name in enumerate(CLASSES):
        tp = expected[i, i]
        assert per_class[name][ev.PRECISION] == pytest.approx(tp / expected[:, i].sum())
        assert per_class[name][ev.RECALL] == pytest.approx(tp / expected[i].sum())
        assert per_class[name]["support"] == expected[i].sum()
    overall = ev.metric_values(evaluation.uri)[None]
    assert overall[(ev.TOP_K_ACCURACY, ev.CANDIDATE, False, None)] == pytest.approx(1.0)  # the label is 2nd at worst


def test_served_baseline_and_noise(inputs, tmp_path):
    """baseline="served": the newest version under the push destination; a 1-example drop is noise."""
    root, _, test_only, models = inputs
    import shutil

    serving = tmp_path / "serving"
    shutil.copytree(models["other_classes"], serving / "1")
    shutil.copytree(models["baseline_wrong_on_0"], serving / "2")
    result, _, blessing = _evaluate(root, test_only, models["noisy"], "served", served_dir=str(serving))
    assert result.baseline["source"] == "served" and result.baseline["version"] == "2"
    regression = _check(result, "no_regression")
    assert regression.applied and regression.passed and result.blessed
    assert (regression.numbers["baseline_only_correct"], regression.numbers["candidate_only_correct"]) == (2, 1)
    assert regression.numbers["p_value"] == pytest.approx(0.5)
    assert "within noise" in regression.sentence
    assert result.validation == {}  # no validation split to report
    assert os.path.isfile(os.path.join(blessing.uri, constants.BLESSED_FILE_NAME))
    # No MLMD id to record for a served version (KFP's v2 entrypoint fails on one: kubeflow local run test).
    assert not blessing.has_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY)


def test_a_baseline_for_other_classes_is_not_compared(inputs):
    root, _, test_only, models = inputs
    result, _, _ = _evaluate(root, test_only, models["perfect"], "other", baseline_dir=models["other_classes"])
    regression = _check(result, "no_regression")
    assert not regression.applied and result.blessed and result.baseline["same_classes"] is False
    assert "different class list than the candidate's (cat, dog, fox added, breed_0" in regression.sentence
    json.dumps(result.baseline)  # gate.json holds plain values
