"""The audit's pure functions on feature arrays: near-duplicates (exact and approximate search agree),
leaks between splits, confident-learning label issues, outliers, the CSV files and audit.json."""

import csv
import json

import numpy as np
import pytest

from components.audit import findings, label_issues, near_duplicates, outliers
from components.audit.settings import AuditSettings
from contract import audit as names
from contract.audit import SplitEmbeddings


def _clusters(rng, per_class=120, dims=64, classes=2, spread=1.0):
    """Two well separated Gaussian classes of non-negative 'pooled features'."""
    centres = rng.normal(0, 3, size=(classes, dims))
    x = np.concatenate([centres[c] + rng.normal(0, spread, size=(per_class, dims)) for c in range(classes)])
    y = np.repeat(np.arange(classes), per_class)
    return np.abs(x).astype(np.float32), y


def _pictures(rng, n):
    """Random small RGB pictures, one per crop, as the Embeddings step keeps them (contract.audit)."""
    return rng.random((n, len(names.PIXEL_CROPS), names.PIXEL_SIDE ** 2 * 3), dtype=np.float32)


def _copied(rng, rows, spread=0.05):
    return (rows + rng.normal(0, spread, size=rows.shape)).astype(np.float32)


def test_near_copies_are_found_and_distinct_images_are_not():
    rng = np.random.default_rng(0)
    x, _ = _clusters(rng)
    pictures = _pictures(rng, len(x))
    features = np.concatenate([x, _copied(rng, x[:10])])  # small perturbations of both views
    pairs = near_duplicates.near_duplicate_pairs(features, np.concatenate([pictures, _copied(rng, pictures[:10])]))
    found = {(i, j) for i, j, _ in pairs}
    expected = {(i, len(x) + i) for i in range(10)}
    assert expected <= found
    assert len(found - expected) <= 1  # distinct draws of a cluster are not copies
    assert [p[2] for p in pairs] == sorted((p[2] for p in pairs), reverse=True)


def test_a_pair_must_match_in_features_and_in_pixels():
    rng = np.random.default_rng(7)
    x, _ = _clusters(rng)
    pictures = _pictures(rng, len(x))
    # 10 images whose features copy an image's but whose pictures are different (another drawing of
    # the kind), and 10 whose pictures copy one's but whose features are different (not the same thing)
    features = np.concatenate([x, _copied(rng, x[:10]), _clusters(np.random.default_rng(8), per_class=5)[0]])
    pixels = np.concatenate([pictures, _pictures(rng, 10), _copied(rng, pictures[10:20], 0.01)])
    copies = np.concatenate([pictures, _copied(rng, pictures[:10])])
    for exact_max in (len(features), 0):  # the exact search and the faiss index check the pictures alike
        assert near_duplicates.near_duplicate_pairs(features, pixels, exact_max=exact_max) == []
        both = near_duplicates.near_duplicate_pairs(features[:len(x) + 10], copies, exact_max=exact_max)
        assert {(i, len(x) + i) for i in range(10)} <= {(i, j) for i, j, _ in both}


def test_a_copy_cropped_by_a_few_percent_matches_its_original_through_the_centre_crop():
    import tensorflow as tf

    from components.embeddings.compute import small_pictures

    rng = np.random.default_rng(9)
    blobs = tf.image.resize(rng.random((6, 12, 12, 3), dtype=np.float32), [128, 128], method="bicubic")
    zoomed = tf.image.resize(tf.image.central_crop(blobs, 0.9), [128, 128])  # 5% off each side, back to size
    small = near_duplicates.pixel_unit(small_pictures(tf.concat([blobs, zoomed], 0)).numpy())
    assert small.shape == (12, len(names.PIXEL_CROPS), names.PIXEL_SIDE ** 2 * 3)
    i, j = np.arange(6), np.arange(6, 12)
    assert near_duplicates.pictures_match(small, near_duplicates.PIXEL_THRESHOLD)(i, j).all()
    whole_to_whole = np.einsum("nd,nd->n", small[i, 0], small[j, 0])
    assert whole_to_whole.min() < near_duplicates.PIXEL_THRESHOLD  # the crop pairing is what matched them
    assert not near_duplicates.pictures_match(small, near_duplicates.PIXEL_THRESHOLD)(i, np.roll(j, 1)).any()


def test_approximate_search_agrees_with_exact_search():
    rng = np.random.default_rng(1)
    x, _ = _clusters(rng, per_class=300)
    unit = near_duplicates.whiten(np.concatenate([x, _copied(rng, x[:20])]))
    exact = {(i, j) for i, j, _ in near_duplicates.exact_pairs(unit, 0.6, block_rows=97)}
    approximate = {(i, j) for i, j, _ in near_duplicates.approximate_pairs(unit, 0.6)}
    assert len(exact) >= 20 and exact == approximate


def test_whitening_keeps_few_dimensions_for_few_images():
    unit = near_duplicates.whiten(np.random.default_rng(2).random((40, 256)))
    assert unit.shape == (40, 10)  # max(MIN_DIMS, 40 // SAMPLES_PER_DIM) dimensions
    assert np.allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)


def test_flipped_labels_are_found_by_confident_learning():
    rng = np.random.default_rng(3)
    x, y = _clusters(rng, per_class=150, spread=2.0)
    flipped = rng.choice(len(y), 15, replace=False)
    given = y.copy()
    given[flipped] = 1 - given[flipped]
    found = label_issues.find_label_issues(x, given, 2)
    hits = set(found.indices.tolist()) & set(flipped.tolist())
    assert len(hits) >= 12 and len(hits) >= 0.5 * len(found.indices)
    assert all(found.suggested[i] == y[i] for i in hits)
    scores = found.scores[found.indices]
    assert list(scores) == sorted(scores, reverse=True)  # most likely error first


def test_outliers_are_images_far_from_every_class():
    rng = np.random.default_rng(4)
    x, y = _clusters(rng, per_class=150)
    strangers = np.abs(rng.normal(0, 3, size=(6, x.shape[1]))).astype(np.float32)
    flagged, scores = outliers.find_outliers(np.concatenate([x, strangers]), np.concatenate([y, [0, 1] * 3]), 2)
    assert set(range(len(x), len(x) + 6)) <= set(flagged.tolist())
    assert len(flagged) <= 12


def _split(features, labels, prefix, pixels=None):
    pixels = _pictures(np.random.default_rng(len(prefix)), len(labels)) if pixels is None else pixels
    return SplitEmbeddings(features, labels, [f"{prefix}/{i}.jpg" for i in range(len(labels))], [], pixels)


def test_audit_writes_lists_that_name_files_and_counts_leaks(tmp_path):
    rng = np.random.default_rng(5)
    x, y = _clusters(rng, per_class=100)
    pictures = _pictures(rng, len(x))
    test_x, test_pictures = _copied(rng, x[:8]), _copied(rng, pictures[:8])  # 8 test images copied from train
    splits = {"train": _split(x, y, "tr", pictures), "test": _split(test_x, y[:8], "te", test_pictures),
              "validation": _split(_clusters(np.random.default_rng(6), per_class=5)[0], y[95:105], "va")}
    settings = AuditSettings(class_names=("cat", "dog"), near_duplicate_threshold=0.4)
    result = findings.audit(splits, settings)
    assert result.counts[names.LEAKED_TEST] == 8 and result.counts[names.TEST_IMAGES] == 8
    findings.write_findings(result, str(tmp_path), settings)
    with open(tmp_path / names.NEAR_DUPLICATES_FILE, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == names.NEAR_DUPLICATES_COLUMNS
    assert {(r["split_a"], r["split_b"]) for r in rows} >= {("train", "test")}
    with open(tmp_path / names.LEAKS_FILE, newline="") as f:
        leaks = list(csv.DictReader(f))
    assert sorted(r["source"] for r in leaks) == sorted(f"te/{i}.jpg" for i in range(8))
    summary = json.loads((tmp_path / names.AUDIT_FILE).read_text())
    assert summary[names.LEAKED_TEST_INDICES] == list(range(8))
    for name, columns in ((names.LABEL_ISSUES_FILE, names.LABEL_ISSUES_COLUMNS),
                          (names.OUTLIERS_FILE, names.OUTLIERS_COLUMNS)):
        assert (tmp_path / name).read_text().splitlines()[0] == ",".join(columns)
    assert "8 of 8 test" in findings.summary_line(result, str(tmp_path))


@pytest.mark.parametrize("n", [0, 1])
def test_audit_of_almost_nothing_reports_nothing(n):
    splits = {"train": _split(np.ones((n, 4), np.float32), np.zeros(n, np.int64), "tr")}
    result = findings.audit(splits, AuditSettings(class_names=("a", "b"), near_duplicate_threshold=0.4))
    assert result.counts["images"] == n and not result.label_issues and not result.near_duplicates
