"""Small JPEGs of the images the audit's first findings name, for the report's side-by-side pictures."""

from __future__ import annotations

import io
from typing import Dict, List, Set, Tuple

import contract
from contract import audit as names

THUMBNAIL_SIDE = 112


def wanted(result, per_kind: int) -> Set[Tuple[str, int]]:
    """(split, index in split) of the images in the first `per_kind` findings of each kind."""
    rows = result.rows
    found: Set[Tuple[str, int]] = set()
    for item in result.label_issues[:per_kind] + result.outliers[:per_kind]:
        found.add(rows[item["index"]][:2])
    for pair in result.near_duplicates[:per_kind]:
        found.update({rows[pair["index_a"]][:2], rows[pair["index_b"]][:2]})
    return found


def thumbnail(encoded: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(encoded)) as image:
        image = image.convert("RGB")
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        return out.getvalue()


def write_thumbnails(result, split_files: Dict[str, List[str]], out_dir: str, per_kind: int) -> int:
    """Reads the records in order and writes thumbnails/<split>-<index>.jpg for the wanted ones."""
    import tensorflow as tf

    todo = wanted(result, per_kind)
    folder = f"{out_dir.rstrip('/')}/{names.THUMBNAILS_DIR}"
    tf.io.gfile.makedirs(folder)
    written = 0
    for split, files in split_files.items():
        indices = {i for s, i in todo if s == split}
        if not indices:
            continue
        for index, record in enumerate(contract.record_dataset(files)):
            if index in indices:
                example = tf.train.Example.FromString(record.numpy())
                try:
                    data = thumbnail(example.features.feature[contract.IMAGE_KEY].bytes_list.value[0])
                except Exception:  # noqa: BLE001 - a picture the report cannot show is no reason to fail
                    continue
                with tf.io.gfile.GFile(f"{folder}/{names.thumbnail_name(split, index)}", "wb") as f:
                    f.write(data)
                written += 1
            if index >= max(indices):
                break
    return written
