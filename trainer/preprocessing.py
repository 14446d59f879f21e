"""Transform's preprocessing_fn: encoded image bytes -> resized, backbone-scaled pixels.

This graph is the only copy of the preprocessing: Trainer trains on its output and
the exported model runs it (through TFT's layer) on raw bytes at serving time.
"""

import tensorflow as tf

from trainer.backbones import scale_pixels
from trainer.settings import TransformSettings
from contract import IMAGE_KEY, LABEL_KEY, TRANSFORMED_IMAGE_KEY


def decode_and_resize(encoded, image_size: int):
    """One encoded JPEG/PNG/GIF/BMP -> float32 [size, size, 3] in [0, 255]."""
    # channels=3 turns grayscale/RGBA/palette into RGB; expand_animations=False keeps a
    # GIF's first frame as a 3-D image instead of a 4-D stack.
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)
    image = tf.image.resize(tf.cast(image, tf.float32), [image_size, image_size], antialias=True)
    image = tf.clip_by_value(image, 0.0, 255.0)
    return tf.ensure_shape(image, [image_size, image_size, 3])


def preprocess_image(encoded, image_size: int, scaling: str):
    """One encoded image -> the backbone's input: what Transform does per image (also `snout tune`)."""
    return scale_pixels(tf, decode_and_resize(encoded, image_size), scaling)


def preprocessing_fn(inputs, custom_config):
    settings = TransformSettings.from_config(custom_config)
    image_size, scaling = settings.image_size, settings.scaling  # all Transform needs to know of the backbone
    encoded = tf.reshape(inputs[IMAGE_KEY], [-1])  # [batch] even if the schema says [batch, 1]
    images = tf.map_fn(
        lambda e: preprocess_image(e, image_size, scaling),
        encoded,
        fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32),
    )
    outputs = {TRANSFORMED_IMAGE_KEY: images}
    if LABEL_KEY in inputs:
        outputs[LABEL_KEY] = tf.reshape(inputs[LABEL_KEY], [-1])
    return outputs
