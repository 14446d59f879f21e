"""`snout ingest` end to end: the three layouts (class folders, CSV, file names) into a dataset."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter

import pytest

import contract
from ingest import api, tsv
from contract.errors import UserError
from tests.fixtures import ingest as fx

FAST = dict(progress=False, max_pixels=fx.MAX_PIXELS)
SPLITS = contract.SPLITS


# ---------------------------------------------------------------- helpers


def read_records(data_dir: str, split_name: str):
    """(label index, image bytes) of every record of a split, via TensorFlow."""
    import tensorflow as tf

    out = []
    spec = {
        contract.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
        contract.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
    }
    files = contract.split_files(data_dir, split_name)
    assert all(path.endswith(contract.RECORD_SUFFIX) for path in files)  # contract's one record format
    for raw in contract.record_dataset(files):
        ex = tf.io.parse_single_example(raw, spec)
        out.append((int(ex[contract.LABEL_KEY]), bytes(ex[contract.IMAGE_KEY].numpy())))
    return out


def read_manifest(data_dir: str):
    return [tuple(row) for row in tsv.read(os.path.join(data_dir, api.MANIFEST_FILE))]


def assert_class_in_every_split(summary):
    for name, n in summary["per_class"].items():
        if n >= 3:
            assert all(summary["counts"][s][name] >= 1 for s in SPLITS), (name, summary["counts"])


# ---------------------------------------------------------------- class folders, end to end


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("folders")
    src, out = str(base / "PetImages"), str(base / "out")
    good = fx.make_class_folders(src)
    summary = api.ingest(out, src, **FAST)
    written = {rel: rel.split("/")[0] for rel in good}
    written.update({f"cat/{name}": "cat" for name in fx.SPECIAL_SIZES})
    return dict(src=src, out=out, good=good, written=written, summary=summary, base=base)


def test_folders_exact_counts(folders):
    s, written = folders["summary"], folders["written"]
    assert s["classes"] == ["cat", "dog"]
    assert s["per_class"] == {"cat": 12 + len(fx.SPECIAL_SIZES), "dog": 10}
    assert_class_in_every_split(s)
    assert {(sp, lab): n for sp in SPLITS for lab, n in s["counts"][sp].items()} == Counter(
        (sp, lab) for sp, lab, _ in read_manifest(folders["out"]))
    assert s["skipped"] == {
        "empty_file": 1, "not_an_image": 1, "truncated": 3, "unsupported_format": 1,
        "too_large": 1, "unreadable": 0, "unknown_label": 1, "invalid_label": 0, "missing_file": 0,
        "duplicate_id": 0, "duplicate_image": 2,
    }
    assert s["ignored_files"] == 1 and s["ignored"]["other_extension"] == 1  # notes.txt
    assert s["listed_files"] == len(written) + 10
    assert (s["kept_original"], s["reencoded"]) == (22, len(fx.SPECIAL_SIZES))
    assert s["warnings"] == []
    on_disk = json.load(open(os.path.join(folders["out"], contract.SUMMARY_FILE)))
    assert on_disk["counts"] == s["counts"] and on_disk["skipped"] == s["skipped"]
    assert "sha256(image file bytes)" in on_disk["split"]["rule"] and on_disk["split"]["stability"]


def test_folders_records_decode_to_3_channels_with_right_labels(folders):
    import tensorflow as tf

    out, good = folders["out"], folders["good"]
    assert contract.read_vocabulary(out) == ["cat", "dog"]
    split_of = {rel: sp for sp, _, rel in read_manifest(out)}
    sizes = Counter()
    for split_name in SPLITS:
        recs = read_records(out, split_name)
        assert Counter(["cat", "dog"][label] for label, _ in recs) == Counter(
            folders["summary"]["counts"][split_name]) - Counter()
        for label, data in recs:
            image = tf.io.decode_image(data, channels=0, expand_animations=False)
            assert image.shape[-1] == 3 and image.dtype == tf.uint8
            sizes[(int(image.shape[1]), int(image.shape[0]))] += 1
        stored = {data for _, data in recs}
        for rel, data in good.items():  # plain RGB JPEGs are stored unchanged, in their split
            assert (data in stored) == (split_of[rel] == split_name)
    assert sizes[fx.GOOD_SIZE] == len(good)
    for name, size in fx.SPECIAL_SIZES.items():
        assert sizes[size] == 1, name  # e.g. the EXIF-rotated image stored upright: 20x40


def test_folders_manifest_and_skip_list(folders):
    manifest = read_manifest(folders["out"])
    assert manifest == sorted(manifest)
    assert {rel: lab for _, lab, rel in manifest} == folders["written"]
    skipped = {row[0]: row[1] for row in tsv.read(os.path.join(folders["out"], api.SKIPPED_FILE))}
    want = {f"cat/{name}": reason for name, reason in fx.BAD_FILES.items()}
    want.update({"dog/truncated2.jpg": "truncated", "stray.jpg": "unknown_label"})
    want.update({copy: "duplicate_image" for copy in fx.DUPLICATES})  # cat/cat_000.jpg sorts first
    assert skipped == want
    assert tsv.read(os.path.join(folders["out"], api.IGNORED_FILE)) == [["cat/notes.txt", "other_extension"]]


def test_same_input_twice_gives_identical_records(folders):
    again = str(folders["base"] / "again")
    api.ingest(again, folders["src"], **FAST)
    for name in (api.MANIFEST_FILE, *(f for s in SPLITS for f in folders["summary"]["record_files"][s])):
        with open(os.path.join(folders["out"], name), "rb") as a, open(os.path.join(again, name), "rb") as b:
            assert a.read() == b.read(), name

    # Adding files and re-ingesting into the same folder: old photos keep their split unless
    # the fill rule moved them (their own class gets no new photo here, so none can move).
    src = str(folders["base"] / "grown")
    shutil.copytree(folders["src"], src)
    for i in range(8):
        fx.write(os.path.join(src, "dog", f"new_{i}.jpg"), fx.jpeg_bytes(seed=7000 + i))
    grown = api.ingest(again, src, **FAST)
    assert grown["per_class"]["dog"] == 18
    new_manifest = {rel: sp for sp, _, rel in read_manifest(again)}
    old_manifest = {rel: sp for sp, _, rel in read_manifest(folders["out"])}
    assert all(new_manifest[rel] == sp for rel, sp in old_manifest.items() if rel.startswith("cat/"))
    # Old shards were replaced, not added to: record count equals the new total.
    assert sum(len(read_records(again, s)) for s in SPLITS) == grown["totals"]["all"]


def test_changed_class_set_needs_overwrite(folders, tmp_path):
    src = str(tmp_path / "three")
    shutil.copytree(folders["src"], src)
    fx.write(os.path.join(src, "fox", "fox_0.jpg"), fx.jpeg_bytes(seed=8000))
    out = str(tmp_path / "out")
    shutil.copytree(folders["out"], out)
    with pytest.raises(UserError, match="class indices would change meaning"):
        api.ingest(out, src, **FAST)
    assert contract.read_vocabulary(out) == ["cat", "dog"]  # untouched by the refusal
    summary = api.ingest(out, src, overwrite=True, **FAST)
    assert contract.read_vocabulary(out) == ["cat", "dog", "fox"]
    assert summary["per_class"]["fox"] == 1


# ---------------------------------------------------------------- CSV and file-name layouts


def test_csv_layout_exact_counts(tmp_path):
    csv_path = fx.make_csv_layout(str(tmp_path / "dogs"))
    out = str(tmp_path / "out")
    s = api.ingest(out, csv_path=csv_path, image_dir=str(tmp_path / "dogs" / "train"), **FAST)
    assert s["layout"] == "csv" and s["classes"] == ["beagle", "corgi", "pug"]
    assert s["per_class"] == {"beagle": 5, "corgi": 4, "pug": 3}
    assert {r: n for r, n in s["skipped"].items() if n} == {
        "missing_file": 2, "unknown_label": 1, "duplicate_id": 1, "truncated": 1,
    }
    assert s["ignored"]["not_in_csv"] == 1
    assert_class_in_every_split(s)
    manifest = read_manifest(out)
    assert len(manifest) == 12
    for split_name in SPLITS:
        assert Counter(
            ["beagle", "corgi", "pug"][lab] for lab, _ in read_records(out, split_name)
        ) == Counter(lab for sp, lab, _ in manifest if sp == split_name)


def test_filename_layout_with_test_split_via_the_cli(tmp_path, capsys):
    from cli.main import main

    fx.make_filename_layout(str(tmp_path))
    out = str(tmp_path / "out")
    code = main([
        "ingest", str(tmp_path / "train"), "--out", out, "--filename-pattern", r"^(?P<label>cat|dog)\.",
        "--validation-ratio", "0.3", "--test-ratio", "0.2", "--max-pixels", str(fx.MAX_PIXELS),
        "--no-progress", "--beam-arg=--direct_num_workers=1",
    ])
    console = capsys.readouterr().out
    assert code == 0
    assert "13 images written" in console and f"snout run --data {out}" in console
    s = contract.read_summary(out)
    assert s["layout"] == "filenames" and s["classes"] == ["cat", "dog"]
    assert s["per_class"] == {"cat": 7, "dog": 6}
    assert {r: n for r, n in s["skipped"].items() if n} == {"unknown_label": 1, "empty_file": 1}
    assert s["split"]["ratios"] == {"train": pytest.approx(0.5), "validation": 0.3, "test": 0.2}
    assert_class_in_every_split(s)
    for split_name in SPLITS:
        assert len(read_records(out, split_name)) == sum(s["counts"][split_name].values())
