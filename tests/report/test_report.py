"""`snout report`: the page built from a real tiny run (numbers match the Evaluator), and the
figures/page for 120 classes with synthetic inputs (fast, no pipeline)."""

import io
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.fixtures.images import encoded, halves
from report import figures
from report import html as report_html
from contract import evaluation as ev
from report.blessing import Blessing
from report.collect import ReportData
from report.dataset import DataStats
from report.metrics import EvaluationSummary
from report.predictions import Predictions
from report.tuning import Tuning, read_trials

SECTION_IDS = ["blessing", "curves", "evaluation", "misclassified", "topk", "tuning", "data", "audit"]


def _png_size(data: bytes):
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


def _sections(page: str):
    return re.findall(r'<section id="([a-z]+)">', page)


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _require_chromium():
    """Screenshot checks need a headless browser: without one they are skipped, not passed."""
    if not _chromium():
        pytest.skip("no chromium/chromium-browser/google-chrome on PATH (`.ci/run` installs Debian's chromium)")


def _screenshot(page_path: str, tmp_path) -> bytes:
    shot = tmp_path / "screenshot.png"
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={shot}", "--window-size=1400,4000",
         "file://" + os.path.abspath(page_path)],
        check=True, timeout=180, capture_output=True)
    return shot.read_bytes()


# ---------------------------------------------------------------- synthetic, 120 classes

def _names(n):
    return [f"class_{i:03d}_a_rather_long_breed_name_{'x' * (i % 7)}" for i in range(n)]


def _synthetic_report(n_classes=120, n_images=40, seed=0) -> ReportData:
    rng = np.random.default_rng(seed)
    names = _names(n_classes)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    for i in range(n_classes):
        confusion[i, i] = rng.integers(3, 8)
        confusion[i, rng.integers(0, n_classes)] += rng.integers(0, 3)
    labels = [int(rng.integers(0, n_classes)) for _ in range(n_images)]
    logits = rng.normal(size=(n_images, n_classes))
    logits[np.arange(n_images), labels] += np.where(np.arange(n_images) % 3 == 0, 0.0, 6.0)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    images = [encoded(halves(40 + i % 5, 60, left=(i * 5 % 255, 80, 20), right=(0, 0, 255))) for i in range(n_images)]
    history = {"phase1_head": {"loss": [2.0, 1.2, 0.9], "accuracy": [0.3, 0.5, 0.6],
                               "val_loss": [1.8, 1.1, 1.0], "val_accuracy": [0.35, 0.55, 0.58]},
               "phase2_fine_tune": {"loss": [0.8], "accuracy": [0.7], "val_loss": [0.9], "val_accuracy": [0.62]}}
    counts = {"train": {n: 20 + i % 5 for i, n in enumerate(names)}, "eval": {n: 5 for n in names},
              "test": {n: 1 for n in names}}
    total = int(confusion.sum())
    per_class = {n: {ev.PRECISION: 0.5, ev.RECALL: 0.25 + i / 1000, "support": int(confusion[i].sum())}
                 for i, n in enumerate(names)}
    del per_class[names[min(3, n_classes - 1)]][ev.PRECISION]  # a class never predicted has no precision
    checks = [ev.GateCheck("min_accuracy", True, False, "test accuracy 0.6000 on 600 test examples (overall slice) "
                           "is below the minimum 0.8000 (--min-accuracy)", value=0.6, threshold=0.8),
              ev.GateCheck("no_regression", False, True, "no-regression check skipped: the baseline model was "
                           "trained for a different class list", threshold=0.0)]
    return ReportData(
        metadata_path="/nowhere/metadata.sqlite", generated_at="now", class_names=names, history=history,
        model_run_dir="/nowhere/model_run", evaluation_dir="/nowhere/evaluation", split="test",
        evaluation=EvaluationSummary(accuracy=float(np.trace(confusion) / total), top_k_accuracy=0.9,
                                     example_count=total, confusion=confusion, unpredicted=np.zeros(n_classes, int),
                                     per_class=per_class),
        validation={"split": "validation", ev.ACCURACY: 0.61, ev.EXAMPLE_COUNT: 240},
        blessing=Blessing(blessed=False, split="test", checks=checks),
        data=DataStats(data_dir="/nowhere/data", description="120 breeds", counts=counts,
                       skipped={"corrupt": 3, "too_small": 0, "not_rgb": 2}),
        tuning=Tuning(trials=[{"trial_id": "00", "status": "COMPLETED", "score": 0.61,
                               "values": {"learning_rate": 0.001, "head_units": 128}, "metrics": {}},
                              {"trial_id": "01", "status": "COMPLETED", "score": 0.64,
                               "values": {"learning_rate": 0.0003, "head_units": 256}, "metrics": {}}],
                      best_hyperparameters={"learning_rate": 0.0003, "head_units": 256}, source="/nowhere/Tuner"),
        predictions=Predictions(images=images, labels=labels, probabilities=probabilities, model_dir="/nowhere/m",
                                examples_source="/nowhere/test", limit=200, split="test"))


def test_figures_for_120_classes():
    report = _synthetic_report()
    names = report.class_names
    width, height = _png_size(figures.confusion(report.evaluation.confusion, names))
    assert 900 <= width <= 2200 and 900 <= height <= 2200  # readable, not a postage stamp nor a poster
    assert _png_size(figures.curves(report.history))[0] > 600
    assert _png_size(figures.data_counts(report.data.counts, names))[0] > 600
    p = report.predictions
    predicted = p.predicted
    wrong = p.wrong
    assert wrong  # the synthetic logits make every third image a likely mistake
    grid = figures.prediction_grid([p.images[i] for i in wrong], [p.labels[i] for i in wrong],
                                   [int(predicted[i]) for i in wrong], [0.5] * len(wrong), names)
    assert _png_size(grid)[1] > 200
    top = figures.top_k(p.images[:3], p.probabilities[:3], p.labels[:3], names, k=10)
    assert _png_size(top)[1] > 300


def test_top_confusions_are_the_largest_off_diagonal_counts():
    matrix = np.array([[5, 2, 0], [7, 1, 1], [0, 0, 9]])
    rows = figures.top_confusions(matrix, ["a", "b", "c"])
    assert rows[0][:3] == ("b", "a", 7) and rows[1][:3] == ("a", "b", 2) and rows[2][:3] == ("b", "c", 1)
    assert abs(rows[0][3] - 7 / 9) < 1e-9
    assert len(rows) == 3


def test_page_for_120_classes_has_every_section(tmp_path):
    report = _synthetic_report()
    figs = report_html.build_figures(report)
    assert set(figs) == set(report_html.FIGURE_FILES)
    page = report_html.render(report, figs)
    assert _sections(page) == SECTION_IDS
    assert page.count("data:image/png;base64,") == len(figs)
    data = report_html.read_embedded_data(page)
    assert data["confusion_total"] == int(report.evaluation.confusion.sum()) == data["example_count"]
    assert len(data["class_names"]) == 120
    assert data["blessed"] is False and data["tuning_trials"] == 2
    # No 120x120 HTML table of counts, but a per-class table with every class.
    assert 'data-cm="' not in page
    assert page.count('data-metric="recall"') == 120
    assert "Top confusions" in page
    assert 'data-status="FAILED"' in page and "is below the minimum 0.8000 (--min-accuracy)" in page
    assert 'data-status="skipped"' in page and "different class list" in page
    # Test split headline with validation beside it; top-5; never "nan".
    assert re.search(r'id="headline">test accuracy <strong data-key="accuracy">0\.\d{4}</strong>.*top-5.*'
                     r'validation accuracy <span data-key="validation_accuracy">0\.6100', page)
    assert not re.search(r"\bnan\b", re.sub(r"base64,[^\"]+", "", page), re.IGNORECASE)
    assert f'data-class="{report.class_names[3]}" data-metric="precision">n/a (never predicted)<' in page
    assert "Lowest recall" in page and report.class_names[0] in page.split("Lowest recall")[1][:400]
    assert "corrupt" in page and "not_rgb" in page
    assert re.search(r"<td>01</td><td>COMPLETED</td><td>0\.6400</td>", page)  # best trial first


def test_page_for_120_classes_renders_in_chromium(tmp_path):
    _require_chromium()
    report = _synthetic_report()
    (tmp_path / "index.html").write_text(report_html.render(report, report_html.build_figures(report)))
    assert _png_size(_screenshot(str(tmp_path / "index.html"), tmp_path))[0] >= 1000


def test_page_for_2_classes_shows_counts_in_the_matrix():
    report = _synthetic_report(n_classes=2, n_images=6)
    report.tuning = None
    report.data.skipped = {}
    report.history_notes = {"phase2_kept": False}
    page = report_html.render(report, report_html.build_figures(report))
    assert "Phase 2 kept: <strong>no</strong>" in page
    assert page.count('data-cm="') == 4
    assert 'id="no-tuning"' in page and "No tuning in this run" in page
    assert 'id="no-skips"' in page


def test_missing_sections_say_why():
    report = ReportData(class_names=["a", "b"], problems={"curves": "FileNotFoundError: history.json"})
    page = report_html.render(report, report_html.build_figures(report))
    assert _sections(page) == SECTION_IDS
    assert "Not available: FileNotFoundError: history.json" in page


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


# ---------------------------------------------------------------- the real tiny run

@pytest.mark.e2e
def test_report_of_the_tiny_pipeline_run(first_pipeline_run, tmp_path):
    from report import write_report

    run, outcome = first_pipeline_run, first_pipeline_run.outcome
    out = tmp_path / "report"
    # Pinned to this run's evaluation: other tests may have run the pipeline again in the workspace.
    path = write_report(run.config, output_dir=str(out), evaluation=outcome.evaluation_dir)
    page = open(path, encoding="utf-8").read()
    data = report_html.read_embedded_data(page)

    assert _sections(page) == SECTION_IDS
    assert data["problems"] == {}
    assert set(data["figures"]) == set(report_html.FIGURE_FILES) - ({"misclassified.png"}
                                                                     if data["misclassified"] == 0 else set())
    for name in data["figures"]:  # PNG files beside the page, and the same bytes embedded in it
        assert _png_size((out / name).read_bytes())
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

    _require_chromium()
    path = write_report(first_pipeline_run.config, output_dir=str(tmp_path / "report"), predictions=False,
                        evaluation=first_pipeline_run.outcome.evaluation_dir)
    assert _png_size(_screenshot(path, tmp_path))[0] >= 1000


@pytest.mark.e2e
def test_snout_report_command_writes_the_page(first_pipeline_run, capsys):
    from cli.main import main

    workspace = first_pipeline_run.config.workspace
    assert main(["report", os.path.join(workspace, "pipeline_root"), "--no-predictions"]) == 0
    path = os.path.join(workspace, "report", "index.html")
    assert f"[snout] report: {path}" in capsys.readouterr().out
    page = open(path, encoding="utf-8").read()
    assert _sections(page) == SECTION_IDS
    assert "skipped (--no-predictions)" in page


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
