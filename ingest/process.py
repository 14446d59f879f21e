"""The per-file work of the ingest pipeline, as a plain function (the Beam DoFn only wraps it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Union

from ingest import reasons
from ingest.image_check import DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS, check_image
from ingest.split import assign_split


@dataclass(frozen=True)
class Settings:
    ratios: Dict[str, float]
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: Optional[int] = None
    jpeg_quality: int = DEFAULT_JPEG_QUALITY


class Written(NamedTuple):
    split: str
    rel_id: str
    label: str
    example: bytes  # serialized tf.train.Example
    input_bytes: int
    image_bytes: int  # stored encoded image
    kept_original: bool


class Skipped(NamedTuple):
    rel_id: str
    reason: str
    detail: str


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def serialize_example(encoded_image: bytes, label_index: int) -> bytes:
    from contract import make_example

    return make_example(encoded_image, label_index).SerializeToString()


def process_file(
    rel_id: str, path: str, label: str, label_index: Dict[str, int], settings: Settings
) -> Union[Written, Skipped]:
    """Reads, validates and normalises one file, and places it in its split."""
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        return Skipped(rel_id, reasons.MISSING_FILE, "vanished after listing")
    except OSError as e:
        return Skipped(rel_id, reasons.UNREADABLE, f"{type(e).__name__}: {e.strerror or e}")
    result = check_image(data, settings.max_pixels, settings.max_side, settings.jpeg_quality)
    if not result.ok:
        return Skipped(rel_id, result.reason, result.detail)
    if label not in label_index:  # the vocabulary is built from the listing; cannot happen there
        return Skipped(rel_id, reasons.UNKNOWN_LABEL, f"label {label!r} not in vocabulary")
    return Written(
        split=assign_split(rel_id, settings.ratios),
        rel_id=rel_id,
        label=label,
        example=serialize_example(result.encoded, label_index[label]),
        input_bytes=len(data),
        image_bytes=len(result.encoded),
        kept_original=result.kept_original,
    )
