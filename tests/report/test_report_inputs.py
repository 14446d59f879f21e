"""What `snout report` reads besides the page: Tuner trials, the target to report on, per-class metrics
off the confusion matrix, and a report problem that must not fail the run."""

import json

import numpy as np
import pytest

from report.tuning import read_trials


def test_read_trials_reads_keras_tuner_trial_files(tmp_path):
    project = tmp_path / ".system" / "executor_execution" / "7" / ".temp" / "snout_head_search"
    for i, score in enumerate([0.5, 0.75]):
        trial = project / f"trial_{i:02d}"
        trial.mkdir(parents=True)
        (trial / "trial.json").write_text(json.dumps({
            "trial_id": f"{i:02d}", "status": "COMPLETED", "score": score, "best_step": 1,
            "hyperparameters": {"space": [], "values": {"learning_rate": 0.001 * (i + 1), "head_units": 64}},
            "metrics": {"metrics": {"val_accuracy": {"direction": "max",
                                                     "observations": [{"value": [score], "step": 1}]}}}}))
    trials = read_trials(str(tmp_path))
    assert [t["trial_id"] for t in trials] == ["00", "01"]
    assert trials[1]["score"] == 0.75 and trials[1]["values"]["learning_rate"] == 0.002
    assert trials[1]["metrics"]["val_accuracy"] == 0.75


def test_report_after_run_never_fails_the_run(tmp_path, capsys):
    from pipeline.config import SnoutConfig
    from report import report_after_run

    assert report_after_run(SnoutConfig(workspace=str(tmp_path / "empty"))) is None
    assert "could not write the report" in capsys.readouterr().err


def test_targets_resolve_to_the_workspace_metadata(tmp_path):
    from contract.errors import UserError
    from report import resolve_target

    (tmp_path / "metadata.sqlite").write_bytes(b"")
    evaluation = tmp_path / "pipeline_root" / "Evaluator" / "evaluation" / "12"
    evaluation.mkdir(parents=True)
    (evaluation / "eval_config.json").write_text("{}")
    metadata = str(tmp_path / "metadata.sqlite")
    assert resolve_target(str(tmp_path)) == (metadata, str(tmp_path), None)
    assert resolve_target(str(tmp_path / "pipeline_root")) == (metadata, str(tmp_path), None)
    assert resolve_target(metadata) == (metadata, str(tmp_path), None)
    assert resolve_target(str(evaluation)) == (metadata, str(tmp_path), str(evaluation))
    with pytest.raises(UserError):
        resolve_target(str(tmp_path / "nope"))


def test_per_class_metrics_are_read_off_the_argmax_confusion_matrix():
    from report.metrics import per_class_metrics

    # A collapsed 2-class model answering "cat" for everything (the run that showed TFMA's top_k=1
    # per-class metrics counting a tie as both classes).
    per_class = per_class_metrics(np.array([[6, 0], [6, 0]]), np.zeros(2, int), ["cat", "dog"])
    assert per_class["cat"] == {"support": 6, "precision": 0.5, "recall": 1.0}
    assert per_class["dog"] == {"support": 6, "recall": 0.0}  # never predicted: no precision, not nan
