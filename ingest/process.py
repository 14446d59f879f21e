"""The per-file work of the ingest pipeline, as plain functions (the Beam DoFn only wraps them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Union

from contract import MAX_IMAGE_PIXELS
from ingest import reasons
from ingest.image_check import DEFAULT_JPEG_QUALITY, check_image
from ingest.split import content_digest


@dataclass(frozen=True)
class Settings:
    max_pixels: int = MAX_IMAGE_PIXELS
    max_side: Optional[int] = None
    jpeg_quality: int = DEFAULT_JPEG_QUALITY


class Checked(NamedTuple):
    rel_id: str
    label: str
    sha256: str  # of the input file: exact duplicates share it, and it places the photo in a split
    example: bytes  # serialized tf.train.Example of the stored image
    input_bytes: int
    image_bytes: int  # the stored encoded image
    kept_original: bool


class Skipped(NamedTuple):
    rel_id: str
    reason: str
    detail: str


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def serialize_example(encoded_image: bytes, label_index: int, source: str) -> bytes:
    """The record; `source` (the path relative to the collection) lets the audit name the file."""
    from contract import make_example

    return make_example(encoded_image, label_index, source).SerializeToString(deterministic=True)  # map order fixed


def process_file(
    rel_id: str, path: str, label: str, label_index: Dict[str, int], settings: Settings
) -> Union[Checked, Skipped]:
    """Reads, validates and normalises one file into its record."""
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        return Skipped(rel_id, reasons.MISSING_FILE, "vanished after listing")
    except OSError as e:
        return Skipped(rel_id, reasons.UNREADABLE, f"{type(e).__name__}: {e.strerror or e}")
    result = check_image(data, settings.max_pixels, settings.max_side, settings.jpeg_quality)
    if not result.ok:
        return Skipped(rel_id, result.reason, result.detail)
    example = serialize_example(result.encoded, label_index[label], rel_id)
    return Checked(rel_id, label, content_digest(data), example, len(data), len(result.encoded),
                   result.kept_original)
