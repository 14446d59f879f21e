"""Ingest records each image's path relative to the collection (`source`), as manifest.tsv lists it."""

import tensorflow as tf

import contract
from ingest.api import ingest
from tests.fixtures.images import encoded, halves


def test_every_record_names_its_source_file(tmp_path):
    photos = tmp_path / "photos"
    for label in ("cat", "dog"):
        (photos / label / "sub").mkdir(parents=True)
        for i in range(4):
            shade = 20 * i + (100 if label == "dog" else 0)  # distinct bytes: duplicates would be dropped
            (photos / label / "sub" / f"{label} {i}.jpg").write_bytes(encoded(halves(left=(shade, 0, 0))))
    out = tmp_path / "data"
    ingest(str(out), str(photos))
    found = {}
    for split in ("train", "validation", "test"):
        for record in contract.record_dataset(contract.split_files(str(out), split)):
            example = tf.train.Example.FromString(record.numpy())
            source = example.features.feature[contract.SOURCE_KEY].bytes_list.value[0].decode()
            found[source] = (split, example.features.feature[contract.LABEL_KEY].int64_list.value[0])
    assert set(found) == {f"{label}/sub/{label} {i}.jpg" for label in ("cat", "dog") for i in range(4)}
    manifest = [line.split("\t") for line in (out / "manifest.tsv").read_text().splitlines()]
    assert {row[2]: row[0] for row in manifest} == {s: split for s, (split, _) in found.items()}
    assert all(label == (0 if s.startswith("cat/") else 1) for s, (_, label) in found.items())
