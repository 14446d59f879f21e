"""Per-request bounds of `snout serve`: images per request, decoded pixels per image,
request bytes, and how a big batch is cut into chunks before it reaches the model.

Pixels are read from each image's header (PIL reads only the header) before anything
is decoded, so a small file that declares 20000x20000 pixels is refused without
allocating them. The default pixel bound is the exported model's own
(contract.MAX_IMAGE_PIXELS), so `snout serve` accepts every image the model accepts.

Refusals use TF Serving's codes: a batch or image over its bound is INVALID_ARGUMENT (as
TF Serving's batcher answers "Task size ... is larger than maximum input batch size"), an
oversized request body RESOURCE_EXHAUSTED (gRPC's own code for a message over
max_receive_message_length; REST answers HTTP 413, serving/rest_server.py).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

import contract
from serving.errors import invalid_argument

# Inputs of the pushed model's signatures that carry encoded images, directly or inside
# a serialized tf.Example under contract.IMAGE_KEY.
_IMAGE_INPUTS = {contract.SERVING_IMAGE_INPUT}
_EXAMPLE_INPUTS = {contract.SERVING_EXAMPLES_INPUT, contract.CLASSIFY_INPUT}


@dataclass(frozen=True)
class RequestLimits:
    max_images: int = 256                 # rows (images / examples) per request
    max_image_pixels: int = contract.MAX_IMAGE_PIXELS  # width*height declared by one image's header
    max_request_bytes: int = 64 << 20     # serialized gRPC message / REST body
    read_timeout_seconds: float = 30.0    # REST: a client that stops sending is dropped
    # Not flags: how a batch is fed to the model. A chunk holds at most this many rows and
    # (beyond its first image) this many decoded pixels, so one request's peak memory is
    # that of a chunk, not of the whole batch.
    chunk_rows: int = 32
    chunk_pixels: int = 16_000_000


def check_batch(limits: RequestLimits, inputs: Dict[str, np.ndarray]) -> List[int]:
    """Refuse an empty or oversized batch, or an image over the pixel bound.
    Returns each row's declared pixel count (0 where no image header was read)."""
    rows = _batch_rows(inputs)
    if rows == 0:
        alias = sorted(inputs)[0] if inputs else "(none)"
        raise invalid_argument(f"input {alias} is an empty batch: send at least one image")
    if rows is not None:
        check_rows(limits, rows)
    pixels = [0] * (rows or 0)
    for alias, value in inputs.items():
        if alias not in _IMAGE_INPUTS | _EXAMPLE_INPUTS or value.dtype != object or value.ndim != 1:
            continue
        for row, item in enumerate(value):
            image = _example_image(item) if alias in _EXAMPLE_INPUTS else item
            pixels[row] = max(pixels[row], _checked_pixels(limits, image, alias, row))
    return pixels


def check_rows(limits: RequestLimits, rows: int) -> None:
    if rows > limits.max_images:
        raise invalid_argument(f"Task size {rows} is larger than maximum input batch size "
                               f"{limits.max_images} (snout serve --max-images-per-request)")


def check_examples(limits: RequestLimits, serialized: Sequence[bytes]) -> List[int]:
    """check_batch for a Classify request's serialized tf.Examples."""
    array = np.empty(len(serialized), dtype=object)
    array[:] = list(serialized)
    return check_batch(limits, {contract.CLASSIFY_INPUT: array})


def chunks(limits: RequestLimits, pixels: Sequence[int]) -> Iterator[slice]:
    """Consecutive row ranges, each within chunk_rows and (after its first row) chunk_pixels."""
    start, budget = 0, 0
    for row, count in enumerate(pixels):
        if row > start and (row - start >= limits.chunk_rows or budget + count > limits.chunk_pixels):
            yield slice(start, row)
            start, budget = row, 0
        budget += count
    if len(pixels) > start:
        yield slice(start, len(pixels))


def _batch_rows(inputs: Dict[str, np.ndarray]) -> Optional[int]:
    sizes = {int(np.shape(v)[0]) for v in inputs.values() if np.ndim(v) >= 1}
    return min(sizes) if sizes else None


def _checked_pixels(limits: RequestLimits, image, alias: str, row: int) -> int:
    if not isinstance(image, bytes):
        return 0
    pixels = header_pixels(image)
    if pixels is not None and pixels > limits.max_image_pixels:
        raise invalid_argument(f"input {alias}[{row}]: image of {pixels} pixels exceeds the limit of "
                               f"{limits.max_image_pixels} (snout serve --max-image-pixels)")
    return pixels or 0


def header_pixels(data: bytes) -> Optional[int]:
    """width*height from the image header, or None when no known header is found (the
    model's decoder then reports the bytes as not an image)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as e:  # over PIL's own bound; its message has the size
        match = re.search(r"\((\d+) pixels\)", str(e))
        return int(match[1]) if match else 2 * (Image.MAX_IMAGE_PIXELS or 0) + 1
    except Exception:  # not an image PIL knows: leave it to the model's decoder
        return None
    return int(width) * int(height)


def _example_image(serialized) -> Optional[bytes]:
    from tensorflow.core.example import example_pb2

    if not isinstance(serialized, bytes):
        return None
    try:
        example = example_pb2.Example.FromString(serialized)
    except Exception:  # malformed: the model's parser reports it
        return None
    feature = example.features.feature.get(contract.IMAGE_KEY)
    values = feature.bytes_list.value if feature is not None else ()
    return values[0] if values else None
