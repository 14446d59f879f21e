"""`snout ingest`'s user errors: one line, exit 2, nothing written."""

from __future__ import annotations

import os

import pytest

from ingest import api
from contract.errors import UserError
from tests.fixtures import ingest as fx

FAST = dict(progress=False, max_pixels=fx.MAX_PIXELS)


# ---------------------------------------------------------------- user errors: one line, exit 2


def _cli(argv, capsys):
    from cli.main import main

    code = main(["ingest", *argv, "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


def test_cli_errors_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "out")
    code, err = _cli([str(tmp_path / "nope"), "--out", out], capsys)
    assert code == 2 and len(err) == 1 and "does not exist" in err[0] and err[0].startswith("snout ingest: error:")

    fx.write(str(tmp_path / "pets" / "cat" / "a.jpg"), fx.jpeg_bytes())
    os.makedirs(tmp_path / "pets" / "dog")
    fx.write(str(tmp_path / "pets" / "dog" / "readme.txt"), b"x")
    code, err = _cli([str(tmp_path / "pets"), "--out", out], capsys)
    assert code == 2 and len(err) == 1 and "no image files" in err[0] and "dog" in err[0]

    csv_path = fx.make_csv_layout(str(tmp_path / "dogs"))
    code, err = _cli(["--csv", csv_path, "--image-dir", str(tmp_path / "dogs" / "train"),
                      "--label-column", "species", "--out", out], capsys)
    assert code == 2 and len(err) == 1 and "no column 'species'" in err[0]
    code, err = _cli(["--csv", csv_path, "--image-dir", str(tmp_path / "dogs" / "train"),
                      "--id-column", "file", "--out", out], capsys)
    assert code == 2 and len(err) == 1 and "no column 'file'" in err[0]

    os.makedirs(tmp_path / "empty")
    code, err = _cli([str(tmp_path / "empty"), "--layout", "filenames", "--out", out], capsys)
    assert code == 2 and len(err) == 1 and "no images found" in err[0]

    fx.write(str(tmp_path / "pets" / "dog" / "b.jpg"), fx.jpeg_bytes(seed=1))
    code, err = _cli([str(tmp_path / "pets"), "--out", str(tmp_path / "pets" / "out")], capsys)
    assert code == 2 and len(err) == 1 and "inside the input folder" in err[0]
    assert not os.path.exists(out)  # nothing written by any refused run


def test_nothing_usable_is_an_error_after_the_run(tmp_path):
    for label in ("cat", "dog"):
        fx.write(str(tmp_path / "src" / label / "x.jpg"), b"not an image")
    with pytest.raises(UserError, match="none of the 2 listed images could be used"):
        api.ingest(str(tmp_path / "out"), str(tmp_path / "src"), **FAST)
    assert os.listdir(tmp_path) == ["src"]  # no output, no leftover temporary folder
