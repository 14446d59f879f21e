"""`snout audit` end to end on a tiny generated dirty collection (sample_data/dirty.py): features at
64 px, audit, lists, page, run once for the module (seconds). The dataset is written directly in
ingest's record format, each record naming its file (ingest's own `source` is tested in
tests/ingest/test_source_path.py). Whether the audit's rules find what they should is tested on
feature vectors (test_audit_functions.py); the issue's targets are measured on a larger collection
by bench/audit_targets.py (README, "Know your data")."""

import csv
import json
import os

import pytest

import contract
from contract import audit as names
from sample_data import CLASS_NAMES
from sample_data.dirty import generate_collection, score_audit

PER_CLASS = 16  # 32 faces at 1/8 each: 4 flipped, 4 near-copies, 4 non-cat/dog drawings


def _dataset(photos: str, data: str) -> None:
    """Every 5th image to test, the next to validation, the rest to train: as ingest's records."""
    files = sorted(f"{label}/{name}" for label in CLASS_NAMES for name in os.listdir(os.path.join(photos, label)))
    contract.write_vocabulary(data, CLASS_NAMES)
    by_split = {split: [] for split in contract.SPLITS}
    for i, source in enumerate(files):
        by_split["test" if i % 5 == 0 else "validation" if i % 5 == 1 else "train"].append(source)
    for split, sources in by_split.items():
        os.makedirs(os.path.join(data, split))
        with contract.record_writer(os.path.join(data, split, "part-0" + contract.RECORD_SUFFIX)) as writer:
            for source in sources:
                with open(os.path.join(photos, source), "rb") as f:
                    label = CLASS_NAMES.index(source.split("/")[0])
                    writer.write(contract.make_example(f.read(), label, source).SerializeToString())


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    from cli.main import main

    work = tmp_path_factory.mktemp("dirty")
    photos, data, out = str(work / "photos"), str(work / "data"), str(work / "audit")
    truth = generate_collection(photos, PER_CLASS, seed=21, flip_share=0.125, copy_share=0.125, outlier_share=0.125)
    _dataset(photos, data)
    assert main(["audit", "--data", data, "--out", out, "--image-size", "64"]) == 0
    return photos, out, truth


def test_planted_faults_are_found_well_above_chance(audited):
    _, out, truth = audited
    score = score_audit(truth, out)
    print(score)
    # Chance: 4 flipped of 40 images, 4 drawings of 40, 4 copies of 780 pairs.
    assert score["outliers_found"] >= 0.5 and score["outliers_precision"] >= 0.5
    assert score["label_issues_recall"] >= 0.5 and score["label_issues_precision"] >= 0.3
    assert score["near_copies_found"] >= 0.75 and score["near_copy_pairs_not_copies"] <= 0.25
    with open(os.path.join(out, names.AUDIT_FILE), encoding="utf-8") as f:
        assert json.load(f)["images"] == 40  # 32 faces, 4 copies, 4 drawings


def test_every_finding_names_a_file_of_the_collection(audited):
    photos, out, _ = audited
    for name, column in ((names.LABEL_ISSUES_FILE, "source"), (names.OUTLIERS_FILE, "source"),
                         (names.NEAR_DUPLICATES_FILE, "source_a"), (names.NEAR_DUPLICATES_FILE, "source_b")):
        with open(os.path.join(out, name), newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(os.path.isfile(os.path.join(photos, row[column])) for row in rows), name


def test_the_audit_page_shows_pairs_and_suggestions_as_pictures(audited):
    _, out, _ = audited
    with open(os.path.join(out, "audit.html"), encoding="utf-8") as f:
        page = f.read()
    for section in ("audit-pairs", "audit-labels", "audit-outliers"):
        assert f"id='{section}'" in page
    assert page.count("data:image/jpeg;base64,") >= 10
    assert "suggested <strong>" in page
