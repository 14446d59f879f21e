"""`snout report` on the shared tiny pipeline run: the page's numbers are the Evaluator's."""

import json
import os
import re

import numpy as np
import pytest

from report import html as report_html
from tests.fixtures.report_page import SECTION_IDS, png_size, require_chromium, screenshot, sections


@pytest.mark.e2e
def test_report_of_the_tiny_pipeline_run(first_pipeline_run, tmp_path):
    from report import write_report

    run, outcome = first_pipeline_run, first_pipeline_run.outcome
    out = tmp_path / "report"
    # Pinned to this run's evaluation: other tests may have run the pipeline again in the workspace.
    path = write_report(run.config, output_dir=str(out), evaluation=outcome.evaluation_dir)
    page = open(path, encoding="utf-8").read()
    data = report_html.read_embedded_data(page)

    assert sections(page) == SECTION_IDS
    assert data["problems"] == {}
    no_mistakes = {"misclassified.png", "gradcam.png"} if data["misclassified"] == 0 else set()  # nothing to draw
    assert set(data["figures"]) == set(report_html.FIGURE_FILES) - no_mistakes
    for name in data["figures"]:  # PNG files beside the page, and the same bytes embedded in it
        assert png_size((out / name).read_bytes())
    assert page.count("data:image/png;base64,") == len(data["figures"])

    # Evaluation: the Evaluator's numbers.
    assert data["example_count"] == outcome.example_count
    assert data["confusion_total"] == outcome.example_count
    assert abs(data["accuracy"] - outcome.accuracy) < 1e-9
    confusion = np.array(data["confusion"])
    assert abs(np.trace(confusion) / confusion.sum() - outcome.accuracy) < 1e-6
    assert set(data["per_class"]) == set(outcome.per_class) == {"cat", "dog"}
    for label, values in outcome.per_class.items():
        i = data["class_names"].index(label)
        # Of the argmax: they agree with the confusion matrix.
        argmax = {"precision": confusion[i, i] / confusion[:, i].sum() if confusion[:, i].sum() else None,
                  "recall": confusion[i, i] / confusion[i].sum()}
        for metric in ("precision", "recall"):
            cell = re.search(rf'data-class="{label}" data-metric="{metric}">([^<]+)<', page).group(1)
            if argmax[metric] is None:
                assert metric not in values and cell == "n/a (never predicted)"
                continue
            assert values[metric] == pytest.approx(argmax[metric])
            assert cell == f"{values[metric]:.4f}"
            assert data["per_class"][label][metric] == pytest.approx(values[metric])
        assert data["per_class"][label]["support"] == confusion[i].sum()
    assert f'data-key="example_count">{outcome.example_count}<' in page

    # Curves: both phases of the Trainer's history.
    history = json.load(open(os.path.join(outcome.model_run_dir, "history.json")))
    assert {"phase1_head", "phase2_fine_tune"} <= set(history)
    assert "phase 1: head" in page and "phase 2: fine-tune" in page
    epochs = len(history["phase1_head"]["val_accuracy"])
    assert re.search(rf"<td>phase 1: head</td><td>{epochs}</td>", page)
    final_val = history["phase2_fine_tune"]["val_accuracy"][-1]
    assert f"<td>{final_val:.4f}</td></tr>" in page

    # Predictions of the evaluated model on the eval split: the sample set's whole eval split.
    assert data["scanned"] == outcome.example_count
    assert f'data-key="misclassified">{data["misclassified"]}<' in page

    # Blessing decision with its thresholds and the pushed version.
    assert data["blessed"] is outcome.blessed
    assert data["min_accuracy"] == pytest.approx(run.config.min_accuracy)
    assert data["max_accuracy_drop"] == pytest.approx(run.config.max_accuracy_drop)
    assert f'data-blessed="{outcome.blessed}">{"yes" if outcome.blessed else "NO"}</strong>' in page
    gate = "passed" if outcome.accuracy >= run.config.min_accuracy else "FAILED"
    assert re.search(rf'id="gate-min_accuracy" class="[a-z]+" data-status="{gate}"><strong>{gate}</strong>: '
                     rf'{outcome.split} accuracy {outcome.accuracy:.4f} on {outcome.example_count} ', page)
    assert page.count('data-status="FAILED"') == len(outcome.failed_thresholds)
    assert [c["sentence"] for c in data["checks"]] == [c.sentence for c in outcome.checks]
    assert data["pushed_version"] == outcome.pushed_version
    if outcome.pushed:
        assert outcome.pushed_version in page
    else:
        assert "pushed: no" in page

    # Data statistics from the dataset's summary.json; no tuning in this run.
    summary = json.load(open(os.path.join(run.config.sample_data_dir, "summary.json")))
    assert data["data_counts"] == summary["counts"]
    if run.config.tune:  # the Tuner's trials (trial.json files, or its tuner_results.json)
        assert 1 <= data["tuning_trials"] <= run.config.tuner_trials
        assert "Best hyperparameters (used by the Trainer)" in page and "No tuning in this run" not in page
    else:
        assert data["tuning_trials"] is None and "No tuning in this run" in page


@pytest.mark.e2e
def test_report_of_the_tiny_pipeline_run_renders_in_chromium(first_pipeline_run, tmp_path):
    from report import write_report

    require_chromium()
    path = write_report(first_pipeline_run.config, output_dir=str(tmp_path / "report"), predictions=False,
                        evaluation=first_pipeline_run.outcome.evaluation_dir)
    assert png_size(screenshot(path, tmp_path))[0] >= 1000


@pytest.mark.e2e
def test_snout_report_command_writes_the_page(first_pipeline_run, capsys):
    from cli.main import main

    workspace = first_pipeline_run.config.workspace
    assert main(["report", os.path.join(workspace, "pipeline_root"), "--no-predictions"]) == 0
    path = os.path.join(workspace, "report", "index.html")
    assert f"[snout] report: {path}" in capsys.readouterr().out
    page = open(path, encoding="utf-8").read()
    assert sections(page) == SECTION_IDS
    assert "skipped (--no-predictions)" in page
