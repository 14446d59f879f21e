"""`snout predict --min-confidence P`: `unsure` below P, probabilities kept (serving/selective.py)."""

import csv
import os

import pytest

import contract
from serving import batch_predict
from serving.selective import label_or_unsure
from tests.fixtures.serving import BLUE, RED, fixture_model_template, install_version, solid_image

PURPLE = (125, 30, 125)  # as red as blue: the fixture model answers ~50/50


def test_label_or_unsure_keeps_the_probability():
    assert label_or_unsure([0.3, 0.7], ["a", "b"], None) == ("b", 0.7)
    assert label_or_unsure([0.3, 0.7], ["a", "b"], 0.7) == ("b", 0.7)  # at P: answered
    assert label_or_unsure([0.3, 0.7], ["a", "b"], 0.71) == (contract.UNSURE_LABEL, 0.7)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    serving_dir = str(tmp_path_factory.mktemp("serving"))
    version_dir = install_version(fixture_model_template(), serving_dir, "snout", 1)
    contract.write_vocabulary(os.path.join(version_dir, contract.MODEL_EXTRA_DIR), ["blue", "red"])
    return version_dir


def test_offline_csv_writes_unsure_below_the_threshold(model_dir, tmp_path):
    from cli.main import main

    root = tmp_path / "in"
    root.mkdir()
    for name, colour in (("red", RED), ("blue", BLUE), ("purple", PURPLE)):
        (root / f"{name}.jpg").write_bytes(solid_image(colour))
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", model_dir, "--input-dir", str(root), "--out", str(out),
                 "--beam-mode", "in_memory", "--min-confidence", "0.8"]) == 0
    with open(out, newline="") as f:
        header, *rows = list(csv.reader(f))
    by_id = {r[0]: r for r in rows}
    assert {i: r[1] for i, r in by_id.items()} == {"red": "red", "blue": "blue", "purple": contract.UNSURE_LABEL}
    _, _, confidence, blue, red = by_id["purple"]
    assert 0.4 < float(confidence) < 0.8 and float(confidence) == max(float(blue), float(red))


@pytest.mark.parametrize("argv, message", [
    (["--min-confidence", "1.5", "x.jpg"], "--min-confidence 1.5 is out of range"),
    (["--format", "kaggle", "--min-confidence", "0.5", "x.jpg"], "--format kaggle does not have"),
])
def test_bad_min_confidence_is_one_line(model_dir, capsys, tmp_path, argv, message):
    from cli.main import main

    assert main(["predict", "--model", model_dir, "--out", str(tmp_path / "p.csv"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_server_client_label_line_and_json_field():
    from argparse import Namespace

    from cli.predict import _selective_label

    top_k = [("red", 0.62), ("blue", 0.38)]
    assert _selective_label(top_k, Namespace(min_confidence=None)) == {}
    assert _selective_label(top_k, Namespace(min_confidence=0.6)) == {"label": "red"}
    assert _selective_label(top_k, Namespace(min_confidence=0.7)) == {"label": contract.UNSURE_LABEL}
