"""Backbones snout can put a new head on, and how each wants its input scaled.

The scaling is applied once, in Transform (trainer/preprocessing.py), so the
exported model and the Evaluator see exactly what training saw.
"""

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Backbone:
    name: str
    # keras.applications attribute that builds it (looked up on the Keras module in use).
    application: str
    # How Transform maps uint8 pixels [0, 255] to model input.
    scaling: str  # "minus_one_to_one" | "zero_to_one" | "caffe_bgr"
    # The Keras ImageNet no-top weights file, named in the error when it cannot be had.
    imagenet_file: Callable[[int], str]
    imagenet_url_dir: str


_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications"

BACKBONES = {
    "mobilenet_v2": Backbone(
        name="mobilenet_v2",
        application="MobileNetV2",
        scaling="minus_one_to_one",
        # Keras only publishes these sizes; any other size falls back to 224's file.
        imagenet_file=lambda size: (
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_"
            f"{size if size in (96, 128, 160, 192, 224) else 224}_no_top.h5"
        ),
        imagenet_url_dir=f"{_KERAS_WEIGHTS}/mobilenet_v2/",
    ),
}


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}") from None


def scale_pixels(tf, pixels_0_255, scaling: str):
    """Maps float pixels in [0, 255] to the backbone's input range."""
    if scaling == "minus_one_to_one":
        return pixels_0_255 / 127.5 - 1.0
    if scaling == "zero_to_one":
        return pixels_0_255 / 255.0
    raise ValueError(f"unknown scaling {scaling!r}")
