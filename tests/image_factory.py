"""Small encoded test images made on the fly (no files shipped)."""

import io

import numpy as np
from PIL import Image


def encoded(array, fmt="JPEG", mode=None, **save_kwargs) -> bytes:
    image = Image.fromarray(array, mode) if mode else Image.fromarray(array)
    out = io.BytesIO()
    image.save(out, format=fmt, **save_kwargs)
    return out.getvalue()


def halves(height=40, width=60, left=(255, 0, 0), right=(0, 0, 255)) -> np.ndarray:
    """An RGB image, left half one colour, right half another (orientation is visible)."""
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = left
    array[:, width // 2:] = right
    return array
