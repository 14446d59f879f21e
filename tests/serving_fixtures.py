"""A tiny real SavedModel with exactly the serving contract of the pushed model.

Signatures (as trainer/export.py writes them):
  serving_default     image_bytes: string[None] -> probabilities, class_index, class_name
  serving_tf_example  examples: string[None] tf.Example{image: bytes} -> same outputs
  classification      inputs: string[None] tf.Example -> classes [N,C], scores [N,C]
                      (method_name rewritten to tensorflow/serving/classify)
It decodes the image, resizes to 8x8 and scores mean red vs mean blue, so a red
photo is "red" and a blue one "blue": deterministic and fast.
"""

from __future__ import annotations

import io
import os
import shutil
from typing import Sequence, Tuple

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

DEFAULT_CLASSES = ("blue", "red")


def export_contract_model(export_dir: str, class_names: Sequence[str], probabilities_fn, **trackables) -> str:
    """Any `probabilities_fn(module, image_bytes) -> [N, C]` behind the pushed model's three signatures.

    `trackables` (variables, Keras models) become attributes of the saved module, so
    the function can use them as `module.<name>`. Returns export_dir.
    """
    import tensorflow as tf

    from serving.signature_tools import mark_classify_signature

    class ContractModel(tf.Module):
        def __init__(self):
            super().__init__()
            self.class_table = tf.Variable(list(class_names), dtype=tf.string, trainable=False)
            for name, value in trackables.items():
                setattr(self, name, value)

        def _outputs(self, image_bytes):
            probabilities = probabilities_fn(self, image_bytes)
            class_index = tf.argmax(probabilities, axis=-1)
            return {"probabilities": probabilities, "class_index": class_index,
                    "class_name": tf.gather(self.class_table, class_index)}

        @staticmethod
        def _parse(serialized):
            parsed = tf.io.parse_example(serialized, {"image": tf.io.FixedLenFeature([], tf.string)})
            return parsed["image"]

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def serve_image_bytes(self, image_bytes):
            return self._outputs(image_bytes)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve_tf_example(self, examples):
            return self._outputs(self._parse(examples))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
        def classify(self, inputs):
            probabilities = probabilities_fn(self, self._parse(inputs))
            batch = tf.shape(probabilities)[0]
            classes = tf.tile(tf.expand_dims(self.class_table, 0), [batch, 1])
            return {"classes": classes, "scores": probabilities}

    module = ContractModel()
    signatures = {
        "serving_default": module.serve_image_bytes.get_concrete_function(),
        "serving_tf_example": module.serve_tf_example.get_concrete_function(),
        "classification": module.classify.get_concrete_function(),
    }
    tf.saved_model.save(module, export_dir, signatures=signatures)
    mark_classify_signature(export_dir, "classification")
    return export_dir


def export_fixture_model(export_dir: str, class_names: Sequence[str] = DEFAULT_CLASSES,
                         image_size: int = 8) -> str:
    """Write the colour SavedModel to export_dir (a version directory); returns export_dir."""
    import tensorflow as tf

    if len(class_names) != 2:
        raise ValueError("the fixture model has exactly two classes (blue-ish, red-ish)")

    def probabilities(module, image_bytes):
        def decode(one):
            image = tf.io.decode_image(one, channels=3, expand_animations=False)
            image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, [image_size, image_size])
            return tf.reduce_mean(image, axis=[0, 1])  # mean R, G, B

        means = tf.map_fn(decode, image_bytes, fn_output_signature=tf.TensorSpec([3], tf.float32))
        logits = tf.stack([means[:, 2], means[:, 0]], axis=1) * module.sharpness
        return tf.nn.softmax(logits)

    return export_contract_model(export_dir, class_names, probabilities,
                                 sharpness=tf.Variable(8.0, trainable=False))


def install_version(template_dir: str, serving_dir: str, model_name: str = "snout",
                    version: int = 1) -> str:
    """Copy an exported SavedModel into <serving_dir>/<model>/<version>/ (what Pusher does)."""
    target = os.path.join(serving_dir, model_name, str(version))
    shutil.copytree(template_dir, target)
    return target


def solid_image(rgb: Tuple[int, int, int], fmt: str = "JPEG", size: int = 32) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), rgb).save(buffer, format=fmt)
    return buffer.getvalue()


RED = (220, 30, 30)
BLUE = (30, 30, 220)


# ---- shared, exported once per test process ----

_TEMPLATES = {}


def fixture_model_template(class_names: Sequence[str] = DEFAULT_CLASSES) -> str:
    """A SavedModel exported once per process (per class list); copy it with install_version."""
    import atexit
    import tempfile

    key = tuple(class_names)
    if key not in _TEMPLATES:
        root = tempfile.mkdtemp(prefix="snout-fixture-model-")
        atexit.register(shutil.rmtree, root, True)
        _TEMPLATES[key] = export_fixture_model(os.path.join(root, "model"), class_names)
    return _TEMPLATES[key]


def make_serving_dir(root: str, versions=(1,), model_name: str = "snout",
                     class_names: Sequence[str] = DEFAULT_CLASSES) -> str:
    serving_dir = os.path.join(root, "serving")
    for version in versions:
        install_version(fixture_model_template(class_names), serving_dir, model_name, version)
    return serving_dir


def free_port() -> int:
    """A loopback port nothing listens on (for 'unreachable server' tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
