"""The records behind a run: a content digest of its data, and its test split's examples for paired grading.

The digest is of the ExampleGen output the run trained and was graded on (what the run saw,
wherever the dataset folder went since): per split, sha256 over the sorted keys of its records,
a record's key being the sha256 of its tf.Example serialized deterministically, so it depends
on neither shard layout, order, compression nor the writer's order of the features; the data
digest is sha256 over the splits' digests. Two runs have the same data when it is equal.

The same key identifies a test photo, so it also pairs the same photo across runs from
different ExampleGen outputs (or ingests) of the same data.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass, field
from typing import List

import contract
from report.predictions import parse_example

DIGEST_SPLITS = contract.SPLITS  # train, validation, test
READ_BATCH = 256


def split_files(examples_uri: str, split: str) -> List[str]:
    return sorted(f for f in glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")) if os.path.isfile(f))


def serialized_records(files: List[str]):
    """Every serialized record of `files`, in order (gzip or plain by suffix, as contract reads them)."""
    if not files:
        return
    for batch in contract.record_dataset(files).batch(READ_BATCH):
        for record in batch.numpy():
            yield bytes(record)


def record_key(record: bytes) -> str:
    """sha256 of the record's tf.Example serialized deterministically: a proto map (the features) has no
    fixed order on the wire, so two writers of the same image and label can write different bytes."""
    import tensorflow as tf

    return hashlib.sha256(tf.train.Example.FromString(record).SerializeToString(deterministic=True)).hexdigest()


def _keys(files: List[str]) -> List[str]:
    """Each record's key, in file order; a record repeated in the split gets #2, #3 ... so none is lost."""
    keys, seen = [], {}
    for record in serialized_records(files):
        key = record_key(record)
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def split_digest(files: List[str]) -> dict:
    keys = sorted(_keys(files))
    return {"digest": hashlib.sha256("\n".join(keys).encode()).hexdigest(), "records": len(keys)}


def data_digest(examples_uri: str):
    """(data digest, {split: {digest, records}}) of an ExampleGen output."""
    splits = {split: split_digest(files) for split in DIGEST_SPLITS
              for files in [split_files(examples_uri, split)] if files}
    overall = hashlib.sha256("".join(f"{s}:{v['digest']}\n" for s, v in sorted(splits.items())).encode())
    return overall.hexdigest(), splits


@dataclass
class GradedPhotos:
    """The graded split's examples, in key order; at most `limit` of `total` (the lowest keys: a sample
    by content hash, the same for every run on the same data)."""
    split: str
    keys: List[str] = field(default_factory=list)
    images: List[bytes] = field(default_factory=list)
    labels: List[int] = field(default_factory=list)
    total: int = 0
    limit: int = 0
    source: str = ""

    @property
    def bounded(self) -> bool:
        return self.total > len(self.keys)


def read_graded_photos(examples_uri: str, split: str, limit: int) -> GradedPhotos:
    """Two passes over the split: every key, then only the `limit` records kept (memory stays bounded)."""
    files = split_files(examples_uri, split)
    if not files:
        raise FileNotFoundError(f"no {split} records in {examples_uri}")
    keys = _keys(files)
    kept = set(sorted(keys)[:limit])
    photos = GradedPhotos(split=split, total=len(keys), limit=limit,
                          source=os.path.join(examples_uri, f"Split-{split}"))
    chosen = {}
    for key, record in zip(keys, serialized_records(files)):
        if key in kept:
            chosen[key] = parse_example(record)
    for key in sorted(chosen):
        photos.keys.append(key)
        photos.images.append(chosen[key][0])
        photos.labels.append(chosen[key][1])
    return photos
