"""Nothing lost, nothing corrupted: atomic output, safe class names, every path counted, --out checked."""

from __future__ import annotations

import hashlib
import os

import pytest

import contract
from contract.errors import UserError
from ingest import api, placement, process, reasons, tsv
from tests.fixtures import ingest as fx

FAST = dict(progress=False, max_pixels=fx.MAX_PIXELS)


def snapshot(folder: str) -> dict:
    """Every file under `folder` (hidden ones too) -> sha256 of its bytes."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def two_classes(root: str, n: int = 6) -> str:
    for label in ("cat", "dog"):
        for i in range(n):
            fx.write(os.path.join(root, label, f"{label}_{i}.jpg"), fx.jpeg_bytes(seed=hash(label) % 1000 + i))
    return root


# ---------------------------------------------------------------- atomic datasets


def _fail_in_beam(monkeypatch):
    real = process.check_image
    calls = []

    def check_image(data, *args):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("disk on fire")
        return real(data, *args)

    monkeypatch.setattr(process, "check_image", check_image)


def _fail_while_writing_shards(monkeypatch):
    real = placement._write_split

    def write_split(members, spill_dir, split_dir, shard_mb):
        if split_dir.endswith(contract.TEST_SPLIT):  # train and validation are written by now
            raise OSError("no space left on device")
        return real(members, spill_dir, split_dir, shard_mb)

    monkeypatch.setattr(placement, "_write_split", write_split)


@pytest.mark.parametrize("fail", [_fail_in_beam, _fail_while_writing_shards])
def test_a_failed_run_leaves_the_previous_dataset_byte_for_byte(tmp_path, monkeypatch, fail):
    src = two_classes(str(tmp_path / "src"))
    out = str(tmp_path / "data")
    api.ingest(out, src, **FAST)
    before = snapshot(out)
    fx.write(os.path.join(src, "cat", "more.jpg"), fx.jpeg_bytes(seed=999))
    fail(monkeypatch)
    with pytest.raises(Exception, match="disk on fire|no space left"):
        api.ingest(out, src, **FAST)
    assert snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == ["data", "src"]  # the temporary sibling is gone


def test_a_successful_run_replaces_the_whole_dataset(tmp_path):
    src = two_classes(str(tmp_path / "src"))
    out = str(tmp_path / "data")
    os.makedirs(os.path.join(out, contract.OLD_LAYOUT_EVAL_DIR))  # an older snout's train/ + eval/ dataset: re-ingesting replaces it
    fx.write(os.path.join(out, contract.OLD_LAYOUT_EVAL_DIR, "old.tfrecord.gz"), b"old")
    api.ingest(out, src, **FAST)
    assert not os.path.exists(os.path.join(out, contract.OLD_LAYOUT_EVAL_DIR))
    assert sorted(os.listdir(tmp_path)) == ["data", "src"]
    assert oct(os.stat(out).st_mode & 0o777) != oct(0o700)  # not the temporary folder's private mode


# ---------------------------------------------------------------- class names


ODD_NAMES = {"ca\rt": False, "new\nline": False, "tab\there": False, " ": False, "bell\x07": False,
             "line\u2028sep": False, "ünïcødé 猫": True, " padded ": True, "dog": True}


def test_vocabulary_round_trips_every_accepted_name_exactly(tmp_path):
    accepted = [n for n, ok in ODD_NAMES.items() if ok]
    contract.write_vocabulary(str(tmp_path), accepted)
    assert contract.read_vocabulary(str(tmp_path)) == accepted
    for name, ok in ODD_NAMES.items():
        if not ok:
            with pytest.raises(ValueError, match="blank|control character"):
                contract.write_vocabulary(str(tmp_path / "bad"), ["dog", name])
    for text in ("cat\r\ndog\r\n", "cat\n\ndog\n", "cat\ncat\n", "cat\n"):
        with open(tmp_path / contract.VOCABULARY_FILE, "w", newline="") as f:
            f.write(text)
        with pytest.raises(ValueError):
            contract.read_vocabulary(str(tmp_path))


def test_class_folders_with_unusable_names_are_skipped_not_shifted(tmp_path):
    src = str(tmp_path / "src")
    for i, name in enumerate(ODD_NAMES):
        for j in range(3):
            fx.write(os.path.join(src, name, f"p{j}.jpg"), fx.jpeg_bytes(seed=100 * i + j))
    out = str(tmp_path / "out")
    s = api.ingest(out, src, **FAST)
    accepted = sorted(n for n, ok in ODD_NAMES.items() if ok)
    assert s["classes"] == accepted == contract.read_vocabulary(out)
    assert s["skipped"][reasons.INVALID_LABEL] == 3 * (len(ODD_NAMES) - len(accepted))
    manifest = tsv.read(os.path.join(out, api.MANIFEST_FILE))
    assert {label for _, label, _ in manifest} == set(accepted)
    assert all(rel.split("/")[0] == label for _, label, rel in manifest)


# ---------------------------------------------------------------- every path counted once


def _hostile_tree(root: str, outside: str) -> None:
    two_classes(root, 4)
    good = fx.jpeg_bytes(seed=4242)
    fx.write(os.path.join(root, "cat", "tab\tand\nnewline.jpg"), good)
    fx.write(os.path.join(root, "cat", ".hidden.jpg"), fx.jpeg_bytes(seed=1))
    fx.write(os.path.join(root, "cat", ".cache", "inner.jpg"), fx.jpeg_bytes(seed=2))
    fx.write(os.path.join(outside, "elsewhere.jpg"), fx.jpeg_bytes(seed=3))
    os.symlink(os.path.join(outside, "elsewhere.jpg"), os.path.join(root, "cat", "outside.jpg"))
    os.symlink(os.path.join(root, "cat", "nothing.jpg"), os.path.join(root, "cat", "dangling.jpg"))
    os.symlink("self.jpg", os.path.join(root, "cat", "self.jpg"))
    os.symlink(os.path.join(root, "cat", "cat_0.jpg"), os.path.join(root, "dog", "link_to_cat.jpg"))
    os.symlink(os.path.join(root, "cat"), os.path.join(root, "dog", "catlink"))
    os.mkfifo(os.path.join(root, "dog", "pipe.jpg"))
    bad = os.fsdecode(b"caf\xe9.jpg")  # Latin-1, not UTF-8
    fx.write(os.path.join(root, "dog", bad), fx.jpeg_bytes(seed=5))
    fx.write(os.path.join(root, os.fsdecode(b"d\xf6g"), "x.jpg"), fx.jpeg_bytes(seed=6))
    fx.write(os.path.join(root, "dog", "cut.jpg"), fx.jpeg_bytes(seed=7)[:25])


def test_every_path_is_counted_exactly_once(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs os.mkfifo")
    src, out = str(tmp_path / "src"), str(tmp_path / "out")
    _hostile_tree(src, str(tmp_path / "outside"))
    s = api.ingest(out, src, **FAST)
    rows = {
        "written": [r[2] for r in tsv.read(os.path.join(out, api.MANIFEST_FILE))],
        "skipped": [r[0] for r in tsv.read(os.path.join(out, api.SKIPPED_FILE))],
        "ignored": [r[0] for r in tsv.read(os.path.join(out, api.IGNORED_FILE))],
    }
    counted = [rel for paths in rows.values() for rel in paths]
    assert len(counted) == len(set(counted))  # nothing counted twice
    assert all(os.path.lexists(os.path.join(src, rel)) for rel in counted)  # every row maps back
    assert len(rows["written"]) == s["totals"]["all"] and len(rows["ignored"]) == s["ignored_files"]
    assert len(rows["skipped"]) == s["skipped_total"]
    ignored_dirs = [rel for rel in rows["ignored"] if os.path.isdir(os.path.join(src, rel))]
    for dirpath, dirnames, names in os.walk(src):  # every entry is counted, or inside an ignored folder
        for name in dirnames + names:
            rel = os.path.relpath(os.path.join(dirpath, name), src)
            if os.path.isdir(os.path.join(src, rel)) and not os.path.islink(os.path.join(src, rel)) \
                    and rel not in ignored_dirs:
                continue  # a folder that was entered: its files are what count
            assert rel in counted or any(rel.startswith(d + "/") for d in ignored_dirs), rel
    ignored = dict(tsv.read(os.path.join(out, api.IGNORED_FILE)))
    assert ignored == {
        "cat/.hidden.jpg": reasons.HIDDEN, "cat/.cache": reasons.HIDDEN,
        "cat/outside.jpg": reasons.LINK_OUTSIDE_INPUT, "cat/dangling.jpg": reasons.BROKEN_LINK,
        "cat/self.jpg": reasons.BROKEN_LINK, "dog/catlink": reasons.FOLDER_LINK,
        "dog/pipe.jpg": reasons.NOT_A_REGULAR_FILE, os.fsdecode(b"dog/caf\xe9.jpg"): reasons.NAME_NOT_UTF8,
        os.fsdecode(b"d\xf6g"): reasons.NAME_NOT_UTF8,
    }
    assert "cat/tab\tand\nnewline.jpg" in rows["written"]
    skipped = {r[0]: r[1] for r in tsv.read(os.path.join(out, api.SKIPPED_FILE))}
    assert skipped == {"dog/link_to_cat.jpg": reasons.DUPLICATE_IMAGE, "dog/cut.jpg": reasons.TRUNCATED}


# ---------------------------------------------------------------- --out checked before any work


def test_bad_out_locations_are_one_line_errors(tmp_path, capsys):
    from cli.main import main

    src = two_classes(str(tmp_path / "src"))
    fx.write(str(tmp_path / "a_file"), b"x")
    fx.write(str(tmp_path / "foreign" / "thesis.docx"), b"x")
    cases = {
        str(tmp_path / "a_file"): "exists and is not a folder",
        str(tmp_path / "a_file" / "below"): "which is a file, not a folder",
        str(tmp_path / "foreign"): "not part of a snout dataset",
        os.path.join(src, "out"): "inside the input folder",
    }
    for out, message in cases.items():
        code = main(["ingest", src, "--out", out, "--no-progress"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], (out, err)
    assert os.listdir(tmp_path / "foreign") == ["thesis.docx"]


def test_unwritable_out_is_one_line_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: permissions do not stop writes")
    src = two_classes(str(tmp_path / "src"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UserError, match="permission denied"):
            api.ingest(str(locked / "out"), src, **FAST)
    finally:
        locked.chmod(0o700)
