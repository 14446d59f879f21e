"""An unchanged rerun grades nothing again (components/evaluator/reuse.py): when the candidate is the
very model the baseline's blessing blessed, under the same grading key, the Evaluator copies the
stored evaluation and states the gate from it; anything else is graded by TFMA."""

import os

import pytest
from tfx.components.evaluator import constants, executor as tfx_evaluator
from tfx.types import standard_artifacts

import contract
from contract import evaluation as ev
from components.evaluator import reuse
from tests.fixtures.evaluation import export_model, model_artifact, run_evaluator, write_examples

CLASSES = [f"breed_{i}" for i in range(4)]


def _run(root, name, examples, candidate, baseline=None, baseline_blessing=None, min_accuracy=0.8):
    inputs = {"examples": [examples], "model": [candidate]}
    if baseline is not None:
        inputs["baseline_model"] = [baseline]
    if baseline_blessing is not None:
        inputs[reuse.BASELINE_BLESSING_KEY] = [baseline_blessing]
    return run_evaluator(root / name, inputs, num_classes=len(CLASSES), min_accuracy=min_accuracy,
                         max_accuracy_drop=0.0)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A model graded once by TFMA, with no baseline: what a first `snout run` leaves behind."""
    root = tmp_path_factory.mktemp("reuse")
    examples = write_examples(str(root / "examples"), {contract.TEST_SPLIT: 24, contract.VALIDATION_SPLIT: 8},
                              len(CLASSES))
    examples.id = 3
    model_dir = export_model(str(root / "model" / "Format-Serving"), CLASSES)
    model = model_artifact(os.path.dirname(model_dir))
    model.id = 11
    result, evaluation, blessing = _run(root, "first", examples, model)
    blessing.id = 21
    return root, examples, model, result, evaluation, blessing


def _no_tfma(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("TFMA ran: the stored evaluation was not reused")

    monkeypatch.setattr(tfx_evaluator.Executor, "Do", refuse)


def test_the_blessed_model_as_its_own_candidate_is_not_graded_again(first, monkeypatch):
    root, examples, model, stored, stored_evaluation, blessing = first
    assert stored.blessed and stored.validation["example_count"] == 8
    assert blessing.get_string_custom_property(reuse.EVALUATION_URI_PROPERTY) == stored_evaluation.uri
    _no_tfma(monkeypatch)
    again, evaluation, new_blessing = _run(root, "again", examples, model, baseline=model, baseline_blessing=blessing)
    assert again.blessed and again.baseline["reused_evaluation"] == stored_evaluation.uri
    # The gate's sentences: the stored min-accuracy check, and a model compared with itself.
    assert [c.sentence for c in again.checks if c.name == "min_accuracy"] == \
        [c.sentence for c in stored.checks if c.name == "min_accuracy"]
    regression = next(c for c in again.checks if c.name == "no_regression")
    assert regression.applied and regression.passed
    assert regression.numbers["baseline_only_correct"] == regression.numbers["candidate_only_correct"] == 0
    assert again.validation == stored.validation
    # TFMA's files are there for the report, and the blessing says what TFX's Evaluator would.
    assert ev.metric_values(evaluation.uri) == ev.metric_values(stored_evaluation.uri)
    assert os.path.isfile(os.path.join(new_blessing.uri, constants.BLESSED_FILE_NAME))
    assert new_blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY) == model.id
    assert new_blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY) == model.id
    assert new_blessing.get_string_custom_property(reuse.EVALUATION_URI_PROPERTY) == evaluation.uri


def test_a_changed_threshold_or_other_examples_are_graded_again(first):
    _, examples, _, _, _, blessing = first
    properties = {"min_accuracy": 0.8, "max_accuracy_drop": 0.0}
    key = blessing.get_string_custom_property(reuse.GRADING_KEY_PROPERTY)
    assert reuse.stored_evaluation(blessing, key) is not None
    other = standard_artifacts.Examples()
    other.uri, other.id = examples.uri, examples.id + 1
    assert reuse.grading_key(properties, [examples]) != reuse.grading_key(properties, [other])
    assert reuse.grading_key(properties, [examples]) != reuse.grading_key(dict(properties, min_accuracy=0.9),
                                                                         [examples])
    assert reuse.stored_evaluation(blessing, key[::-1]) is None
    assert reuse.stored_evaluation(None, key) is None
    unblessed = standard_artifacts.ModelBlessing()
    for name in (reuse.EVALUATION_URI_PROPERTY, reuse.GRADING_KEY_PROPERTY):
        unblessed.set_string_custom_property(name, blessing.get_string_custom_property(name))
    unblessed.set_int_custom_property("blessed", 0)
    assert reuse.stored_evaluation(unblessed, key) is None


def test_another_model_is_graded_by_tfma(first, monkeypatch):
    root, examples, model, _, _, blessing = first
    other_dir = export_model(str(root / "other" / "Format-Serving"), CLASSES, [b"test-0"])
    other = model_artifact(os.path.dirname(other_dir))
    other.id = model.id + 1
    assert not reuse.same_model(other, model, other_dir, os.path.join(model.uri, "Format-Serving"))

    class Graded(Exception):
        pass

    def tfma(*args, **kwargs):
        raise Graded

    monkeypatch.setattr(tfx_evaluator.Executor, "Do", tfma)  # TFMA's run itself: test_evaluator.py
    with pytest.raises(Graded):
        _run(root, "other", examples, other, baseline=model, baseline_blessing=blessing)
