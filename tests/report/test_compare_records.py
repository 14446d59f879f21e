"""The records behind a comparison: a content digest that ignores shards, order and compression,
and a bounded, content-chosen sample of the graded split that keeps repeated records."""

import os

import pytest

import contract
from report.compare import records
from tests.fixtures.images import encoded, halves


def _examples(n):
    return [contract.make_example(encoded(halves(16, 16, left=(i * 20 % 255, 60, 10))), i % 2).SerializeToString()
            for i in range(n)]


def _write(folder, shards, suffix=".tfrecord"):
    import tensorflow as tf

    os.makedirs(folder, exist_ok=True)
    for i, shard in enumerate(shards):
        options = tf.io.TFRecordOptions(compression_type="GZIP" if suffix.endswith(".gz") else "")
        with tf.io.TFRecordWriter(os.path.join(folder, f"data-{i:05d}{suffix}"), options) as writer:
            for record in shard:
                writer.write(record)


def test_digest_ignores_shards_order_and_compression_but_not_content(tmp_path):
    train, test = _examples(8), _examples(12)[8:]
    _write(tmp_path / "a" / "Split-train", [train])
    _write(tmp_path / "a" / "Split-test", [test])
    _write(tmp_path / "b" / "Split-train", [train[5:], train[:5][::-1]], suffix=".gz")
    _write(tmp_path / "b" / "Split-test", [test[::-1]], suffix=".gz")
    _write(tmp_path / "c" / "Split-train", [train[:-1]])
    _write(tmp_path / "c" / "Split-test", [test + test[:1]])  # one test photo twice
    a, a_splits = records.data_digest(str(tmp_path / "a"))
    b, _ = records.data_digest(str(tmp_path / "b"))
    c, c_splits = records.data_digest(str(tmp_path / "c"))
    assert a == b and a != c
    assert {s: v["records"] for s, v in a_splits.items()} == {"train": 8, "test": 4}
    assert c_splits["test"]["records"] == 5 and c_splits["test"]["digest"] != a_splits["test"]["digest"]


def test_the_key_is_the_examples_content_not_its_wire_order():
    other, label = _examples(1)[0], 1
    example = contract.make_example(encoded(halves(16, 16)), label)
    # The same two features, written label first (protobuf merges concatenated messages).
    only_label, only_image = (contract.make_example(b"", 0) for _ in range(2))
    del only_label.features.feature[contract.IMAGE_KEY]
    del only_image.features.feature[contract.LABEL_KEY]
    only_label.features.feature[contract.LABEL_KEY].int64_list.value[:] = [label]
    only_image.features.feature[contract.IMAGE_KEY].bytes_list.value[:] = [encoded(halves(16, 16))]
    label_first = only_label.SerializeToString() + only_image.SerializeToString()
    image_first = only_image.SerializeToString() + only_label.SerializeToString()
    assert label_first != image_first
    assert records.record_key(label_first) == records.record_key(image_first) == records.record_key(
        example.SerializeToString())
    assert records.record_key(other) != records.record_key(example.SerializeToString())


def test_graded_photos_are_the_lowest_keys_with_repeats_kept(tmp_path):
    test = _examples(10)
    _write(tmp_path / "Split-test", [test[:6], test[6:] + test[:1]])
    every = records.read_graded_photos(str(tmp_path), "test", limit=100)
    assert every.total == 11 and len(every.keys) == 11 and not every.bounded
    assert sum(key.endswith("#2") for key in every.keys) == 1 and every.keys == sorted(every.keys)
    sample = records.read_graded_photos(str(tmp_path), "test", limit=4)
    assert sample.bounded and sample.total == 11 and sample.keys == every.keys[:4]
    assert sample.labels == every.labels[:4] and sample.images == every.images[:4]
    with pytest.raises(FileNotFoundError):
        records.read_graded_photos(str(tmp_path), "validation", limit=4)
