"""`snout ingest`'s per-image checks (no Beam): skip reasons, size limit, conversion to 3-channel 8-bit JPEGs;
and the file-name layout's default pattern."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ingest import image_check, layouts, reasons
from tests.fixtures import ingest as fx


# ---------------------------------------------------------------- one image, no Beam


@pytest.mark.parametrize("name,reason", sorted(fx.BAD_FILES.items()))
def test_bad_files_are_skipped_with_their_reason(name, reason):
    result = image_check.check_image(fx.bad_files()[name], max_pixels=fx.MAX_PIXELS)
    assert not result.ok
    assert result.reason == reason


def test_too_large_depends_on_the_max_pixels_flag():
    huge = fx.bad_files()["huge.png"]
    assert image_check.check_image(huge, max_pixels=fx.MAX_PIXELS).reason == reasons.TOO_LARGE
    assert image_check.check_image(huge).ok  # Pillow's default bomb limit is far above 120x100
    bomb = fx.huge_png_header()  # rejected from the header alone, nothing is decoded
    assert image_check.check_image(bomb).reason == reasons.TOO_LARGE
    assert image_check.check_image(bomb, max_pixels=10**11).reason == reasons.TOO_LARGE


@pytest.mark.parametrize("name", sorted(fx.SPECIAL_SIZES))
def test_special_images_become_3_channel_8bit_jpegs(name):
    result = image_check.check_image(fx.special_images()[name], max_pixels=fx.MAX_PIXELS)
    assert result.ok, result
    assert not result.kept_original
    img = Image.open(io.BytesIO(result.encoded))
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", fx.SPECIAL_SIZES[name])
    assert "exif" not in img.info or img.getexif().get(0x0112, 1) == 1


def test_pixels_of_converted_images():
    special = fx.special_images()
    rotated = np.asarray(Image.open(io.BytesIO(image_check.check_image(special["rotated.jpg"]).encoded)))
    assert rotated.shape == (40, 20, 3)
    assert rotated[5, 10, 0] > 200 and rotated[5, 10, 2] < 60  # red on top after rotation
    assert rotated[35, 10, 2] > 200 and rotated[35, 10, 0] < 60  # blue below
    deep = np.asarray(Image.open(io.BytesIO(image_check.check_image(special["deep16.png"]).encoded)))
    assert abs(float(deep.mean()) - 128) < 3  # 32768/65535 scaled, not clipped to white
    for name in ("rgba.png", "gray_alpha.png", "transparent.png"):
        rgba = np.asarray(Image.open(io.BytesIO(image_check.check_image(special[name]).encoded)))
        assert rgba.min() > 245, name  # fully transparent pixels composited on white


def test_plain_rgb_jpeg_is_kept_byte_for_byte_unless_resized():
    data = fx.jpeg_bytes(size=(64, 48), seed=1)
    kept = image_check.check_image(data)
    assert kept.ok and kept.kept_original and kept.encoded == data
    shrunk = image_check.check_image(data, max_side=16)
    assert shrunk.ok and not shrunk.kept_original
    assert Image.open(io.BytesIO(shrunk.encoded)).size == (16, 12)
    assert image_check.check_image(data, max_side=64).encoded == data  # already small enough


# ---------------------------------------------------------------- layouts


def test_default_filename_pattern():
    regex = layouts.compile_label_pattern(layouts.DEFAULT_FILENAME_PATTERN)
    assert layouts.label_from_filename(regex, "cat.123.jpg") == "cat"
    assert layouts.label_from_filename(regex, "golden_retriever.9.png") == "golden_retriever"
    assert layouts.label_from_filename(regex, "noext") is None
