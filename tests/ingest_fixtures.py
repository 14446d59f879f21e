"""Small photo collections, in the three layouts, with a bad-file corpus made by Pillow.

Ordinary good photos are 32x24 RGB JPEGs; every special image has its own size so a test can
find its record again after ingest (records carry only image bytes and label).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import Dict

import numpy as np
from PIL import Image

GOOD_SIZE = (32, 24)  # (width, height)
MAX_PIXELS = 10_000  # tests pass this as --max-pixels; only HUGE_SIZE exceeds it
HUGE_SIZE = (120, 100)

# name -> (size after ingest (w, h)) of the accepted-but-re-encoded special images.
SPECIAL_SIZES = {
    "gray.jpg": (34, 34),
    "cmyk.jpg": (28, 28),
    "rgba.png": (26, 26),
    "palette.gif": (36, 36),
    "deep16.png": (30, 30),
    "plain.png": (38, 38),
    "gray_alpha.png": (27, 27),
    "transparent.png": (29, 29),
    "rotated.jpg": (20, 40),  # stored 40x20 with EXIF orientation 6 -> upright is 20 wide, 40 tall
}

# name -> skip reason of the bad files.
BAD_FILES = {
    "truncated.jpg": "truncated",
    "empty.jpg": "empty_file",
    "text.jpg": "not_an_image",
    "icon.jpg": "unsupported_format",  # a real ICO file named .jpg
    "huge.png": "too_large",
}


def _noise(size, seed: int) -> np.ndarray:
    w, h = size
    return (np.random.RandomState(seed).rand(h, w, 3) * 255).astype(np.uint8)


def jpeg_bytes(size=GOOD_SIZE, seed: int = 0, **save_kwargs) -> bytes:
    out = io.BytesIO()
    Image.fromarray(_noise(size, seed)).save(out, format="JPEG", quality=90, **save_kwargs)
    return out.getvalue()


def _save(img: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kwargs)
    return out.getvalue()


def rotated_jpeg_bytes() -> bytes:
    """40x20 stored pixels: left half red, right half blue; EXIF orientation 6 (rotate 90 CW).

    Upright it is 20 wide and 40 tall with red on top and blue below.
    """
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)
    arr[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(Image.fromarray(arr), "JPEG", quality=95, exif=exif.tobytes())


def _palette_with_transparency(size) -> Image.Image:
    img = Image.new("P", size, 1)
    img.putpalette([0, 0, 0, 0, 0, 0] + [0] * 762)  # index 1 is black but transparent
    img.info["transparency"] = 1
    return img


def huge_png_header(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming a 10-gigapixel image, with almost no pixel data: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def special_images() -> Dict[str, bytes]:
    rgba = Image.new("RGBA", SPECIAL_SIZES["rgba.png"], (255, 0, 0, 0))  # fully transparent red
    palette = Image.fromarray(_noise(SPECIAL_SIZES["palette.gif"], 7)).convert("P")
    deep = Image.new("I;16", (30, 30), 32768)  # mid-grey, 16-bit
    return {
        "gray.jpg": _save(Image.fromarray(_noise((34, 34), 3)).convert("L"), "JPEG"),
        "cmyk.jpg": _save(Image.fromarray(_noise((28, 28), 4)).convert("CMYK"), "JPEG"),
        "rgba.png": _save(rgba, "PNG"),
        "palette.gif": _save(palette, "GIF"),
        "deep16.png": _save(deep, "PNG"),
        "plain.png": _save(Image.fromarray(_noise((38, 38), 5)), "PNG"),
        "gray_alpha.png": _save(Image.new("LA", (27, 27), (0, 0)), "PNG"),  # transparent black
        "transparent.png": _save(_palette_with_transparency((29, 29)), "PNG"),
        "rotated.jpg": rotated_jpeg_bytes(),
    }


def bad_files() -> Dict[str, bytes]:
    good = jpeg_bytes(seed=99)
    return {
        "truncated.jpg": good[: len(good) // 2],
        "empty.jpg": b"",
        "text.jpg": b"this is not a photo, just text with a .jpg name\n",
        "icon.jpg": _save(Image.fromarray(_noise((16, 16), 6)), "ICO"),
        "huge.png": _save(Image.fromarray(_noise(HUGE_SIZE, 8)), "PNG"),
    }


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_class_folders(root: str, n_cat: int = 12, n_dog: int = 10) -> Dict[str, bytes]:
    """root/cat: n_cat good JPEGs + every special + every bad file + notes.txt;
    root/dog: n_dog good JPEGs + another truncated JPEG; root/stray.jpg (no class).

    Returns relative path -> bytes of the good RGB JPEGs (stored unchanged by ingest).
    """
    good = {}
    for i in range(n_cat):
        good[f"cat/cat_{i:03d}.jpg"] = jpeg_bytes(seed=i)
    for i in range(n_dog):
        good[f"dog/dog_{i:03d}.jpg"] = jpeg_bytes(seed=1000 + i)
    for rel, data in good.items():
        write(os.path.join(root, rel), data)
    for name, data in {**special_images(), **bad_files()}.items():
        write(os.path.join(root, "cat", name), data)
    write(os.path.join(root, "dog", "truncated2.jpg"), bad_files()["truncated.jpg"])
    write(os.path.join(root, "cat", "notes.txt"), b"not opened: other extension\n")
    write(os.path.join(root, "stray.jpg"), jpeg_bytes(seed=500))
    return good


def make_csv_layout(root: str) -> str:
    """Kaggle-dog-breed-like: root/labels.csv (id,breed) + root/train/<id>.jpg. Returns CSV path.

    Written: beagle 5, corgi 4, pug 3. Skipped: missing_file 2, unknown_label 1 (empty breed),
    duplicate_id 1, truncated 1. Ignored: 1 image not named in the CSV.
    """
    rows = [("id", "breed")]
    n = 0
    for breed, count in (("beagle", 5), ("corgi", 4), ("pug", 3)):
        for _ in range(count):
            image_id = f"{n:032x}"
            write(os.path.join(root, "train", image_id + ".jpg"), jpeg_bytes(seed=2000 + n))
            rows.append((image_id, breed))
            n += 1
    rows += [("f" * 32, "pug"), ("e" * 32, "corgi")]  # no such files
    write(os.path.join(root, "train", "d" * 32 + ".jpg"), jpeg_bytes(seed=3000))
    rows.append(("d" * 32, ""))  # file exists, label empty
    rows.append((f"{0:032x}", "beagle"))  # duplicate of the first row
    write(os.path.join(root, "train", "c" * 32 + ".jpg"), bad_files()["truncated.jpg"])
    rows.append(("c" * 32, "pug"))
    write(os.path.join(root, "train", "b" * 32 + ".jpg"), jpeg_bytes(seed=3001))  # not in CSV
    csv_path = os.path.join(root, "labels.csv")
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write("".join(",".join(r) + "\n" for r in rows))
    return csv_path


def make_filename_layout(root: str) -> None:
    """root/train/cat.N.jpg x 7, dog.N.jpg x 6, bird.1.jpg (not matched by ^(?P<label>cat|dog)\\.),
    dog.99.jpg zero bytes."""
    for i in range(7):
        write(os.path.join(root, "train", f"cat.{i}.jpg"), jpeg_bytes(seed=4000 + i))
    for i in range(6):
        write(os.path.join(root, "train", f"dog.{i}.jpg"), jpeg_bytes(seed=5000 + i))
    write(os.path.join(root, "train", "bird.1.jpg"), jpeg_bytes(seed=6000))
    write(os.path.join(root, "train", "dog.99.jpg"), b"")
