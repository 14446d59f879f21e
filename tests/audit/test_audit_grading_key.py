"""The Evaluator reuses a stored evaluation only under the same grading key (components/evaluator/reuse.py):
the data audit and the leak rule's flags change what is graded and whether a leak refuses the blessing,
so a changed audit, --max-leaked-test-share or --drop-leaked-test grades afresh."""

import json
import os

from tfx.types import standard_artifacts

import contract
from contract import audit as names
from contract import evaluation as ev
from components.evaluator import executor as evaluator_executor, leaks, reuse

PROPS = {"eval_config": "{}", "example_splits": '["test"]', "min_accuracy": 0.8, "max_accuracy_drop": 0.0,
         "validation_split": "validation", leaks.MAX_LEAKED_TEST_SHARE_KEY: 0.01, leaks.DROP_LEAKED_TEST_KEY: 0}


def _artifact(kind, uri: str, artifact_id: int):
    artifact = kind()
    artifact.uri, artifact.id = uri, artifact_id
    return artifact


def test_the_grading_key_holds_the_audit_and_the_leak_flags():
    examples = [_artifact(standard_artifacts.Examples, "/e", 3)]
    audit = [_artifact(standard_artifacts.Examples, "/a/1", 5)]
    key = reuse.grading_key(PROPS, examples, audit)
    assert key == reuse.grading_key(dict(PROPS), examples, [_artifact(standard_artifacts.Examples, "/a/1", 5)])
    assert key != reuse.grading_key(PROPS, examples, [_artifact(standard_artifacts.Examples, "/a/2", 6)])
    assert key != reuse.grading_key(PROPS, examples, [])
    assert key != reuse.grading_key(dict(PROPS, **{leaks.DROP_LEAKED_TEST_KEY: 1}), examples, audit)
    assert key != reuse.grading_key(dict(PROPS, **{leaks.MAX_LEAKED_TEST_SHARE_KEY: 0.05}), examples, audit)


def _audit(root, name: str, leaked: int, artifact_id: int):
    folder = root / name
    folder.mkdir()
    (folder / names.AUDIT_FILE).write_text(json.dumps({names.LEAKED_TEST: leaked, names.TEST_IMAGES: 24,
                                                       names.LEAKED_TEST_INDICES: list(range(leaked))}))
    return _artifact(standard_artifacts.Examples, str(folder), artifact_id)  # only uri and id are read


def test_a_stored_evaluation_is_reused_only_with_the_audit_it_was_graded_with(tmp_path, monkeypatch):
    model = _artifact(standard_artifacts.Model, str(tmp_path / "model"), 11)
    extra = tmp_path / "model" / "Format-Serving" / contract.MODEL_EXTRA_DIR
    extra.mkdir(parents=True)
    (extra / contract.VOCABULARY_FILE).write_text("cat\ndog\n")
    examples = _artifact(standard_artifacts.Examples, str(tmp_path / "examples"), 3)
    clean, leaky = _audit(tmp_path, "clean", 0, 5), _audit(tmp_path, "leaky", 3, 6)
    stored = tmp_path / "stored"
    stored.mkdir()
    ev.write_gate(str(stored), ev.GateResult(blessed=True, split="test", example_count=24, checks=[ev.GateCheck(
        name="min_accuracy", state=ev.CheckState.PASSED, sentence="ok", value=0.9, threshold=0.8)]))
    blessing = _artifact(standard_artifacts.ModelBlessing, str(tmp_path / "blessing"), 21)
    blessing.set_int_custom_property("blessed", 1)
    blessing.set_string_custom_property(reuse.EVALUATION_URI_PROPERTY, str(stored))
    blessing.set_string_custom_property(reuse.GRADING_KEY_PROPERTY, reuse.grading_key(PROPS, [examples], [clean]))

    graded = []  # the audit of each run TFMA would have graded (stood in for: only the choice is tested here)

    def grade(self, input_dict, output_dict, exec_properties, candidate_dir, baseline_info, audit):
        graded.append(audit)
        return ev.GateResult(blessed=False, split="test")

    monkeypatch.setattr(evaluator_executor.Executor, "_grade", grade)

    def run(audit, name):
        evaluation = _artifact(standard_artifacts.ModelEvaluation, str(tmp_path / name / "evaluation"), 0)
        out_blessing = _artifact(standard_artifacts.ModelBlessing, str(tmp_path / name / "blessing"), 0)
        os.makedirs(out_blessing.uri)
        os.makedirs(evaluation.uri)  # TFX makes the output folders
        inputs = {"examples": [examples], "model": [model], "baseline_model": [model],
                  reuse.BASELINE_BLESSING_KEY: [blessing], leaks.AUDIT_KEY: [audit]}
        evaluator_executor.Executor().Do(inputs, {"evaluation": [evaluation], "blessing": [out_blessing]},
                                         dict(PROPS))
        return ev.read_gate(evaluation.uri)

    assert run(clean, "same").baseline.get("reused_evaluation") == str(stored) and graded == []
    assert not run(leaky, "other").blessed and graded == [[leaky]]  # graded afresh, with the leaky audit
