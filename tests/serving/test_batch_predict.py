"""`snout predict --model DIR`: offline bulk prediction as a Beam RunInference job, on a tiny
real SavedModel with the pushed model's signatures (red vs blue, tests/fixtures/serving.py)."""

import csv
import os

import pytest

import contract
from serving import batch_predict
from tests.fixtures.serving import BLUE, RED, fixture_model_template, install_version, solid_image


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    """<serving_dir>/snout/ with one version, its labels in assets.extra as the Pusher's model has."""
    serving_dir = str(tmp_path_factory.mktemp("serving"))
    version_dir = install_version(fixture_model_template(), serving_dir, "snout", 3)
    contract.write_vocabulary(os.path.join(version_dir, contract.MODEL_EXTRA_DIR), ["blue", "red"])
    return os.path.join(serving_dir, "snout")


@pytest.fixture()
def photos(tmp_path):
    """5 red and 4 blue images (JPEG and PNG, one in a sub-folder) and 3 files that are not images."""
    root = tmp_path / "test"
    (root / "more").mkdir(parents=True)
    expected = {}
    for i in range(5):
        (root / f"r{i}.jpg").write_bytes(solid_image(RED))
        expected[f"r{i}"] = "red"
    for i in range(3):
        (root / f"b{i}.png").write_bytes(solid_image(BLUE, fmt="PNG"))
        expected[f"b{i}"] = "blue"
    (root / "more" / "b9.jpg").write_bytes(solid_image(BLUE))
    expected["more/b9"] = "blue"
    (root / "junk.jpg").write_bytes(b"not an image at all")
    (root / "empty.jpg").write_bytes(b"")
    (root / "cut.jpg").write_bytes(solid_image(RED)[:120])
    (root / ".hidden.jpg").write_bytes(b"never listed")
    return root, expected


def _predict(model, root, out, *extra):
    from cli.main import main

    return main(["predict", "--model", model, "--input-dir", str(root), "--out", str(out),
                 "--beam-mode", "in_memory", "--batch-size", "4", *extra])


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_one_row_per_image_and_bad_files_counted_and_listed(model_base, photos, tmp_path, capsys):
    root, expected = photos
    out = tmp_path / "predictions.csv"
    assert _predict(model_base, root, out) == 1  # like the server client: 1 when some file was not classified
    console = capsys.readouterr().out
    assert f"9 images -> {out}" in console and "3 files skipped" in console
    header, *rows = _rows(out)
    assert header == ["id", "label", "confidence", "blue", "red"]
    assert {row[0]: row[1] for row in rows} == expected
    for file_id, label, confidence, blue, red in rows:
        assert abs(float(blue) + float(red) - 1) < 1e-4
        assert float(confidence) == max(float(blue), float(red)) > 0.9
    skipped = dict(line.split("\t") for line in (tmp_path / "predictions-skipped.tsv").read_text().splitlines())
    assert sorted(os.path.basename(p) for p in skipped) == ["cut.jpg", "empty.jpg", "junk.jpg"]
    assert skipped[str(root / "empty.jpg")] == "empty file"
    assert skipped[str(root / "junk.jpg")].startswith("not an image")
    # A damaged JPEG passes the header check; the model refuses it, and only it, in its batch.
    assert skipped[str(root / "cut.jpg")].startswith("not a readable image: ") and "{{" not in skipped[str(root / "cut.jpg")]


def test_kaggle_format_is_id_then_one_column_per_class(model_base, tmp_path):
    root = tmp_path / "test"
    root.mkdir()
    (root / "000a1.jpg").write_bytes(solid_image(RED))
    (root / "000b2.jpg").write_bytes(solid_image(BLUE))
    out = tmp_path / "submission.csv"
    assert _predict(model_base, root, out, "--format", "kaggle") == 0
    header, *rows = _rows(out)
    assert header == ["id", "blue", "red"]
    assert [row[0] for row in rows] == ["000a1", "000b2"]
    assert float(rows[0][2]) > 0.9 and float(rows[1][1]) > 0.9


def test_files_sharing_an_id_keep_their_paths_and_missing_arguments_are_listed(tmp_path):
    (tmp_path / "cat.jpg").write_bytes(b"x")
    (tmp_path / "cat.png").write_bytes(b"x")
    (tmp_path / "dog.jpg").write_bytes(b"x")
    found, missing = batch_predict.list_inputs([str(tmp_path), str(tmp_path / "nope")])
    ids = [file_id for file_id, _ in found]
    assert ids == [str(tmp_path / "cat.jpg"), str(tmp_path / "cat.png"), "dog"]
    assert missing == [(str(tmp_path / "nope"), "no such file or folder")]


def test_a_model_name_with_a_server_still_means_the_server(model_base):
    from cli.main import build_parser
    from cli.predict_offline import is_offline

    parse = build_parser().parse_args
    assert is_offline(parse(["predict", "--model", model_base, "x.jpg"]))
    assert not is_offline(parse(["predict", "--server", "localhost:8500", "--model", model_base, "x.jpg"]))
    assert not is_offline(parse(["predict", "--model", "snout", "x.jpg"]))
