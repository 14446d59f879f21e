"""Datasets made before the three-split layout (train/ + eval/, maybe test/), made readable as
train/validation/test without touching the original.

ImportExampleGen can only rename input splits or hash-partition ONE input stream, so a
two-split dataset cannot become three splits inside it. Instead the run prepares a view in
the workspace: train/ (and an existing test/) are symlinks to the original files; without a
test/, eval/ is divided per class by a hash of each image's bytes into validation and test
(alternately over the sorted hashes: halves per class; identical images stay together).
The view is keyed by the source files' names, sizes and mtimes, so a rerun reuses it
byte for byte and the pipeline's cache still holds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import defaultdict
from typing import Dict, List, Tuple

import contract


def is_legacy(data_dir: str) -> bool:
    """train/ and eval/ records, no validation/: made before three splits."""
    return bool(contract.split_files(data_dir, contract.EVAL_SPLIT)) and not contract.split_files(
        data_dir, contract.VALIDATION_SPLIT)


def three_split_view(data_dir: str, views_root: str) -> Tuple[str, Dict[str, int], bool]:
    """(view dir, examples per carved split, whether eval was carved); the view is made once."""
    source_splits = (contract.TRAIN_SPLIT, contract.EVAL_SPLIT, contract.TEST_SPLIT)
    view = os.path.join(views_root, _fingerprint(data_dir, source_splits))
    carve = not contract.split_files(data_dir, contract.TEST_SPLIT)
    if not os.path.isdir(view):
        staging = view + ".partial"
        shutil.rmtree(staging, ignore_errors=True)
        for name in (contract.VOCABULARY_FILE, contract.SUMMARY_FILE):
            if os.path.isfile(os.path.join(data_dir, name)):
                os.makedirs(staging, exist_ok=True)
                shutil.copyfile(os.path.join(data_dir, name), os.path.join(staging, name))
        _link(data_dir, contract.TRAIN_SPLIT, staging, contract.TRAIN_SPLIT)
        if carve:
            halves = _halves_by_class(contract.split_files(data_dir, contract.EVAL_SPLIT))
            for split, records in zip((contract.VALIDATION_SPLIT, contract.TEST_SPLIT), halves):
                _write(records, os.path.join(staging, split, f"data-00000-of-00001{contract.RECORD_SUFFIX}"))
        else:
            _link(data_dir, contract.EVAL_SPLIT, staging, contract.VALIDATION_SPLIT)
            _link(data_dir, contract.TEST_SPLIT, staging, contract.TEST_SPLIT)
        os.rename(staging, view)
    counts = {split: _count(contract.split_files(view, split))
              for split in (contract.VALIDATION_SPLIT, contract.TEST_SPLIT)}
    return view, counts, carve


def _fingerprint(data_dir: str, splits) -> str:
    digest = hashlib.sha256(os.path.abspath(data_dir).encode())
    files = [os.path.join(data_dir, contract.VOCABULARY_FILE)]
    files += [f for split in splits for f in contract.split_files(data_dir, split)]
    for path in files:
        if os.path.exists(path):
            stat = os.stat(path)
            digest.update(f"{os.path.relpath(path, data_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _link(data_dir: str, split: str, view: str, as_split: str) -> None:
    os.makedirs(os.path.join(view, as_split), exist_ok=True)
    for path in contract.split_files(data_dir, split):
        os.symlink(os.path.abspath(path), os.path.join(view, as_split, os.path.basename(path)))


def _records(files: List[str]):
    import tensorflow as tf

    for path in files:
        for raw in tf.data.TFRecordDataset(path, compression_type=contract.record_compression(path)):
            yield raw.numpy()


def _halves_by_class(files: List[str]) -> Tuple[List[bytes], List[bytes]]:
    """Per label, images sorted by sha256 of their bytes go alternately to validation and test."""
    import tensorflow as tf

    by_label = defaultdict(lambda: defaultdict(list))  # label -> image hash -> records
    for raw in _records(files):
        feature = tf.train.Example.FromString(raw).features.feature
        labels = feature[contract.LABEL_KEY].int64_list.value
        images = feature[contract.IMAGE_KEY].bytes_list.value
        key = hashlib.sha256(images[0] if images else raw).hexdigest()
        by_label[labels[0] if labels else -1][key].append(raw)
    validation, test = [], []
    for groups in by_label.values():
        for i, key in enumerate(sorted(groups)):
            (validation if i % 2 == 0 else test).extend(groups[key])
    return validation, test


def _write(records: List[bytes], path: str) -> None:
    import tensorflow as tf

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression_type="GZIP")) as writer:
        for raw in records:
            writer.write(raw)


def _count(files: List[str]) -> int:
    return sum(1 for _ in _records(files))
