"""`snout ingest`: per-image checks, the split rule, the three layouts end to end, CLI errors."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections import Counter

import numpy as np
import pytest
from PIL import Image

import contract
from ingest import api, image_check, layouts, reasons, tsv
from contract.errors import UserError
from tests.fixtures import ingest as fx

FAST = dict(progress=False, max_pixels=fx.MAX_PIXELS)
SPLITS = (contract.TRAIN_SPLIT, contract.VALIDATION_SPLIT, contract.TEST_SPLIT)


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
    assert all(path.endswith(contract.PLAIN_RECORD_SUFFIX) for path in files)  # JPEGs: no gzip
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


# ---------------------------------------------------------------- one image, no Beam


@pytest.mark.parametrize("name,reason", sorted(fx.BAD_FILES.items()))
def test_bad_files_are_skipped_with_their_reason(name, reason):
    result = image_check.check_image(fx.bad_files()[name], max_pixels=fx.MAX_PIXELS)
    assert not result.ok
    assert result.reason == reason


def test_too_large_depends_on_the_max_pixels_flag():
    huge = fx.bad_files()["huge.png"]
    assert image_check.check_image(huge, max_pixels=fx.MAX_PIXELS).reason == reasons.TOO_LARGE
    assert image_check.check_image(huge).ok  # Pillow's default bomb limit is far above 120x100
    bomb = fx.huge_png_header()  # rejected from the header alone, nothing is decoded
    assert image_check.check_image(bomb).reason == reasons.TOO_LARGE
    assert image_check.check_image(bomb, max_pixels=10**11).reason == reasons.TOO_LARGE


@pytest.mark.parametrize("name", sorted(fx.SPECIAL_SIZES))
def test_special_images_become_3_channel_8bit_jpegs(name):
    result = image_check.check_image(fx.special_images()[name], max_pixels=fx.MAX_PIXELS)
    assert result.ok, result
    assert not result.kept_original
    img = Image.open(io.BytesIO(result.encoded))
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", fx.SPECIAL_SIZES[name])
    assert "exif" not in img.info or img.getexif().get(0x0112, 1) == 1


def test_pixels_of_converted_images():
    special = fx.special_images()
    rotated = np.asarray(Image.open(io.BytesIO(image_check.check_image(special["rotated.jpg"]).encoded)))
    assert rotated.shape == (40, 20, 3)
    assert rotated[5, 10, 0] > 200 and rotated[5, 10, 2] < 60  # red on top after rotation
    assert rotated[35, 10, 2] > 200 and rotated[35, 10, 0] < 60  # blue below
    deep = np.asarray(Image.open(io.BytesIO(image_check.check_image(special["deep16.png"]).encoded)))
    assert abs(float(deep.mean()) - 128) < 3  # 32768/65535 scaled, not clipped to white
    for name in ("rgba.png", "gray_alpha.png", "transparent.png"):
        rgba = np.asarray(Image.open(io.BytesIO(image_check.check_image(special[name]).encoded)))
        assert rgba.min() > 245, name  # fully transparent pixels composited on white


def test_plain_rgb_jpeg_is_kept_byte_for_byte_unless_resized():
    data = fx.jpeg_bytes(size=(64, 48), seed=1)
    kept = image_check.check_image(data)
    assert kept.ok and kept.kept_original and kept.encoded == data
    shrunk = image_check.check_image(data, max_side=16)
    assert shrunk.ok and not shrunk.kept_original
    assert Image.open(io.BytesIO(shrunk.encoded)).size == (16, 12)
    assert image_check.check_image(data, max_side=64).encoded == data  # already small enough


# ---------------------------------------------------------------- layouts


def test_default_filename_pattern():
    regex = layouts.compile_label_pattern(layouts.DEFAULT_FILENAME_PATTERN)
    assert layouts.label_from_filename(regex, "cat.123.jpg") == "cat"
    assert layouts.label_from_filename(regex, "golden_retriever.9.png") == "golden_retriever"
    assert layouts.label_from_filename(regex, "noext") is None


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


def test_eval_ratio_is_a_deprecated_alias(tmp_path, capsys):
    from cli.main import main

    fx.make_filename_layout(str(tmp_path))
    out = str(tmp_path / "out")
    assert main(["ingest", str(tmp_path / "train"), "--out", out, "--filename-pattern", r"^(?P<label>cat|dog)\.",
                 "--eval-ratio", "0.25", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "--eval-ratio is deprecated" in captured.out + captured.err
    assert contract.read_summary(out)["split"]["ratios"]["validation"] == 0.25


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
