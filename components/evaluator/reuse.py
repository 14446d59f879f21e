"""An unchanged rerun grades nothing again: the candidate is the model already blessed.

A rerun with nothing changed hands the Evaluator the cached Trainer's model as the candidate
and, through the Resolver, the same model as the baseline, with the blessing of its earlier
evaluation. Grading a model against itself on the same examples can only give what the stored
evaluation already says (the same predictions: equal accuracies, no example on which they
disagree), so the Evaluator copies that evaluation and writes the gate from it instead of
running TFMA twice more. It does so only when everything the grade depends on is the same:

- the candidate is the baseline (the same Model artifact, or a SavedModel with the same graph
  and variable bytes);
- the baseline's blessing carries the URI of its evaluation and a grading key equal to this
  run's: the examples artifact, the TFMA config, the gate's splits and thresholds, and the leak
  rule's inputs (the DataAudit artifact, --max-leaked-test-share, --drop-leaked-test: they decide
  which test images are graded and whether a leak refuses the blessing).

Anything else (baseline="served" on Kubeflow, which has no Resolver and so no blessing to
reuse; a changed threshold; new data) grades afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Optional

from tfx.dsl.io import fileio
from tfx.types import standard_component_specs as specs

from contract import evaluation as ev
from components.evaluator import gate

BASELINE_BLESSING_KEY = "baseline_blessing"
# Custom properties the Evaluator sets on its blessing, read back by the next run's Evaluator.
EVALUATION_URI_PROPERTY = "evaluation_uri"
GRADING_KEY_PROPERTY = "grading_key"
# The exec properties a grade depends on (the examples and audit artifacts are added by id).
GRADED_BY = (specs.EVAL_CONFIG_KEY, specs.EXAMPLE_SPLITS_KEY, "min_accuracy", "max_accuracy_drop",
             "validation_split", "max_leaked_test_share", "drop_leaked_test")


def grading_key(exec_properties: dict, examples, audit=()) -> str:
    """What a stored grade is valid for: these examples, this TFMA config, these gate settings, this audit."""
    what = {name: exec_properties.get(name) for name in GRADED_BY}
    what["examples"] = [(a.id, a.uri) for a in examples]
    what["audit"] = [(a.id, a.uri) for a in audit]
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _custom(artifact, name: str):
    if not artifact.has_custom_property(name):
        return None
    return artifact.get_custom_property(name)


def same_model(candidate, baseline, candidate_dir: str, baseline_dir: str) -> bool:
    """The very same model: one artifact, or SavedModels with identical graph and variables."""
    if baseline is None:
        return False
    if candidate.id and candidate.id == baseline.id:
        return True
    from components.pusher import saved_model_digest

    digest = saved_model_digest(candidate_dir)
    return bool(digest) and digest == saved_model_digest(baseline_dir)


def stored_evaluation(baseline_blessing, key: str) -> Optional[str]:
    """The URI of the evaluation behind `baseline_blessing`, if it blessed the model under the same grading key."""
    if baseline_blessing is None or not _custom(baseline_blessing, "blessed"):
        return None
    uri = _custom(baseline_blessing, EVALUATION_URI_PROPERTY)
    if not uri or _custom(baseline_blessing, GRADING_KEY_PROPERTY) != key:
        return None
    if not fileio.exists(os.path.join(str(uri), ev.GATE_FILE)):
        return None  # the stored evaluation was deleted: grade again
    return str(uri) if ev.read_gate(str(uri)).blessed else None


def _copy_tree(source: str, target: str) -> None:
    fileio.makedirs(target)
    for name in fileio.listdir(source):
        name = name.rstrip("/")
        src, dst = os.path.join(source, name), os.path.join(target, name)
        if fileio.isdir(src):
            _copy_tree(src, dst)
        else:
            fileio.copy(src, dst, overwrite=True)


def reuse(stored_uri: str, evaluation_uri: str, baseline_info: dict, max_accuracy_drop: float) -> ev.GateResult:
    """Copies the stored evaluation into this run's output and states the gate for a candidate that
    is its own baseline: the stored checks, and a no-regression check with no disagreement."""
    _copy_tree(stored_uri, evaluation_uri)
    stored = ev.read_gate(stored_uri)
    accuracy_check = next(c for c in stored.checks if c.name == "min_accuracy")
    checks = [c for c in stored.checks if c.name != "no_regression"]
    if accuracy_check.value is not None and stored.example_count is not None:
        baseline_info["accuracy"] = accuracy_check.value
        checks.append(gate.regression_check(accuracy_check.value, accuracy_check.value, 0, 0, stored.example_count,
                                            max_accuracy_drop, stored.split))
    else:  # fail closed, as when TFMA gives no paired counts
        checks.append(ev.GateCheck(name="no_regression", state=ev.CheckState.FAILED,
                                   sentence="no-regression check could not be computed: the stored evaluation "
                                            "has no accuracy", threshold=max_accuracy_drop))
    baseline_info["reused_evaluation"] = stored_uri
    blessed = all(c.passed for c in checks if c.applied)
    return ev.GateResult(blessed=blessed, split=stored.split, example_count=stored.example_count, checks=checks,
                         baseline=baseline_info, validation=dict(stored.validation),
                         calibration=dict(stored.calibration))
