"""Backbones snout can put a new head on, and how each wants its input scaled.

The scaling is applied once, in Transform (trainer/preprocessing.py), so the
exported model and the Evaluator see exactly what training saw.
"""

from dataclasses import dataclass
from typing import Callable, Optional

HUB = "hub"
SCALINGS = ("minus_one_to_one", "zero_to_one", "zero_to_255", "caffe_bgr")
_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications"


@dataclass(frozen=True)
class Backbone:
    name: str
    # keras.applications attribute that builds it; None for snout's own small CNN.
    application: Optional[str]
    # How Transform maps pixels [0, 255] to model input:
    #   minus_one_to_one  x/127.5 - 1            (MobileNetV2)
    #   zero_to_255       unchanged             (EfficientNet rescales inside the model)
    #   caffe_bgr         RGB->BGR minus ImageNet means (VGG16, imagenet_utils "caffe" mode)
    #   zero_to_one       x/255                 (the small CNN trained from scratch)
    scaling: str
    # The Keras ImageNet no-top weights file, named in the error when it cannot be had.
    imagenet_file: Callable[[int], str] = lambda size: ""
    imagenet_url_dir: str = ""
    # Pretrained bases are frozen in phase 1; a from-scratch network trains whole.
    pretrained: bool = True


BACKBONES = {
    "mobilenet_v2": Backbone(
        name="mobilenet_v2", application="MobileNetV2", scaling="minus_one_to_one",
        # Keras only publishes these sizes; any other size falls back to 224's file.
        imagenet_file=lambda size: (
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_"
            f"{size if size in (96, 128, 160, 192, 224) else 224}_no_top.h5"),
        imagenet_url_dir=f"{_KERAS_WEIGHTS}/mobilenet_v2/",
    ),
    "efficientnet_b0": Backbone(
        name="efficientnet_b0", application="EfficientNetB0", scaling="zero_to_255",
        imagenet_file=lambda size: "efficientnetb0_notop.h5",
        imagenet_url_dir="https://storage.googleapis.com/keras-applications/",
    ),
    "vgg16": Backbone(
        name="vgg16", application="VGG16", scaling="caffe_bgr",
        imagenet_file=lambda size: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        imagenet_url_dir=f"{_KERAS_WEIGHTS}/vgg16/",
    ),
    "small_cnn": Backbone(name="small_cnn", application=None, scaling="zero_to_one", pretrained=False),
    # A TF Hub feature-vector module (trainer/hub_backbone.py): its scaling is a setting (--hub-scaling),
    # and this, TF Hub's [0, 1] image convention, is that setting's default.
    HUB: Backbone(name=HUB, application=None, scaling="zero_to_one"),
}

_CAFFE_MEANS_BGR = (103.939, 116.779, 123.68)


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(BACKBONES)}") from None


def input_scaling(backbone: str, hub_scaling: str) -> str:
    """The scaling Transform applies for `backbone`; a TF Hub module's is a setting (`hub_scaling`)."""
    return hub_scaling if backbone == HUB else get_backbone(backbone).scaling


def scale_pixels(tf, pixels_0_255, scaling: str):
    """Maps float RGB pixels in [0, 255] (last axis = channels) to the backbone's input range."""
    if scaling == "minus_one_to_one":
        return pixels_0_255 / 127.5 - 1.0
    if scaling == "zero_to_one":
        return pixels_0_255 / 255.0
    if scaling == "zero_to_255":
        return pixels_0_255
    if scaling == "caffe_bgr":
        return pixels_0_255[..., ::-1] - tf.constant(_CAFFE_MEANS_BGR, dtype=pixels_0_255.dtype)
    raise ValueError(f"unknown scaling {scaling!r}")


def build_small_cnn(keras, image_size: int):
    """The from-scratch baseline: 4 conv/pool blocks (the notebooks' ~1.2M-parameter CNN at 150px)."""
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = inputs
    for i, filters in enumerate((32, 64, 128, 128)):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"cnn_conv_{i}")(x)
        x = keras.layers.MaxPooling2D(name=f"cnn_pool_{i}")(x)
    return keras.Model(inputs, x, name="small_cnn")
