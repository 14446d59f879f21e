"""Validate and normalise one image: bytes in, 3-channel 8-bit encoded bytes (or a skip reason) out.

Plain functions, no Beam and no TensorFlow, so they are unit-testable and cheap to ship to
workers. Every image is fully decoded once (header-only checks miss truncated files).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from contract import IMAGE_SIGNATURES, MAX_IMAGE_PIXELS
from ingest import reasons

# Formats Pillow decodes that we accept. Anything else Pillow recognises (ICO, PPM, PSD, TGA,
# EPS, ...) is `unsupported_format`: such files in a photo collection are usually not photos.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "BMP", "WEBP", "TIFF"})

DEFAULT_JPEG_QUALITY = 95
_EXIF_ORIENTATION = 0x0112
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
# Signatures of supported formats (the model's, plus TIFF): a file that starts with one but cannot be
# opened was cut short inside its header (Pillow then only says it cannot identify the file).
_SIGNATURES = tuple(magic for magic, _ in IMAGE_SIGNATURES) + (b"II*\x00", b"MM\x00*")

# Our max_pixels check replaces Pillow's bomb warning (set once here: catch_warnings is not
# thread-safe). Pillow still raises DecompressionBombError above twice its own limit
# (~179 Mpx), which we also count as too_large, so that is the effective ceiling of max_pixels.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


@dataclass(frozen=True)
class CheckResult:
    """Either `encoded` (ok) or `reason` (skipped) is set."""

    encoded: Optional[bytes] = None
    reason: Optional[str] = None
    detail: str = ""
    width: int = 0
    height: int = 0
    source_format: str = ""
    kept_original: bool = False

    @property
    def ok(self) -> bool:
        return self.encoded is not None


def _skip(reason: str, detail: str = "", fmt: str = "") -> CheckResult:
    return CheckResult(reason=reason, detail=detail[:200], source_format=fmt)


def check_image(
    data: bytes,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: Optional[int] = None,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
) -> CheckResult:
    """Decodes `data` once and returns the bytes to store, or why the image is skipped.

    Stored bytes are the original file for an upright 8-bit RGB JPEG within `max_side`
    (lossless and free); everything else is re-encoded as an RGB JPEG at `jpeg_quality`.
    """
    if not data:
        return _skip(reasons.EMPTY_FILE)
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        return _skip(reasons.TOO_LARGE, str(e))
    except UnidentifiedImageError:
        if data.startswith(_SIGNATURES):
            return _skip(reasons.TRUNCATED, f"ends inside the header ({len(data)} bytes)")
        return _skip(reasons.NOT_AN_IMAGE, "not a format Pillow recognises")
    except Exception as e:  # noqa: BLE001 - a corrupt header can raise almost anything
        return _skip(_truncated_or_unreadable(e), f"{type(e).__name__}: {e}")

    fmt = img.format or ""
    if fmt not in SUPPORTED_FORMATS:
        return _skip(reasons.UNSUPPORTED_FORMAT, fmt, fmt)
    width, height = img.size
    if width <= 0 or height <= 0:
        return _skip(reasons.UNREADABLE, "zero-sized image", fmt)
    if width * height > max_pixels:  # checked on the header, before decoding any pixels
        return _skip(reasons.TOO_LARGE, f"{width}x{height} > {max_pixels} pixels", fmt)

    try:
        if max_side and fmt == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when we shrink anyway: much faster,
            # and the whole entropy-coded stream is still read (truncation is still caught).
            img.draft("RGB", (max_side, max_side))
        img.load()
    except Image.DecompressionBombError as e:
        return _skip(reasons.TOO_LARGE, str(e), fmt)
    except OSError as e:
        return _skip(_truncated_or_unreadable(e), str(e), fmt)
    except Exception as e:  # noqa: BLE001 - decoder bugs surface as ValueError, SyntaxError, ...
        return _skip(reasons.UNREADABLE, f"{type(e).__name__}: {e}", fmt)

    try:
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block should not lose a good photo
        orientation = 1
    rotate = orientation in range(2, 9)  # 1 is upright; anything else is not a valid tag
    too_big = bool(max_side) and max(width, height) > max_side
    drafted = img.size != (width, height)

    if fmt == "JPEG" and img.mode == "RGB" and not rotate and not too_big and not drafted:
        return CheckResult(
            encoded=data, width=width, height=height, source_format=fmt, kept_original=True
        )

    try:
        if rotate:  # works in any mode; drops the tag so nothing downstream rotates again
            img = ImageOps.exif_transpose(img)
        rgb = _to_rgb(img)
        if rgb is None:
            return _skip(reasons.UNSUPPORTED_FORMAT, f"{fmt} mode {img.mode}", fmt)
        if too_big:
            rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        rgb.save(out, format="JPEG", quality=jpeg_quality)  # no exif: pixels are already upright
    except Exception as e:  # noqa: BLE001
        return _skip(reasons.UNREADABLE, f"re-encoding failed: {type(e).__name__}: {e}", fmt)
    return CheckResult(
        encoded=out.getvalue(), width=rgb.width, height=rgb.height, source_format=fmt
    )


def _truncated_or_unreadable(error: Exception) -> str:
    """Pillow reports data that ends early as an OSError mentioning truncation."""
    return reasons.TRUNCATED if "truncated" in str(error).lower() else reasons.UNREADABLE


def _to_rgb(img: Image.Image) -> Optional[Image.Image]:
    """Any decoded mode -> 8-bit RGB; None for modes we cannot map sensibly (e.g. float)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P":
        # Palette images with a transparent index become RGBA first, then get composited.
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
        if mode == "RGB":
            return img
    if mode in _ALPHA_MODES:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in _SIXTEEN_BIT_MODES:
        # Pillow's own convert("L") clips 16-bit values at 255 (a white image); scale instead.
        arr = np.asarray(img).astype(np.uint32)
        arr = (np.clip(arr, 0, 65535) * 255 + 32767) // 65535
        return Image.fromarray(arr.astype(np.uint8), mode="L").convert("RGB")
    if mode in ("L", "1", "CMYK", "YCbCr"):
        return img.convert("RGB")
    return None  # float, signed 16-bit, LAB, HSV, ...: no faithful 8-bit RGB without guessing
