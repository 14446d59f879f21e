"""Running snout's TFLite files as an app would: decode, bilinear resize to H x W, uint8 pixels in.

The .tflite files (components/lite_export) take uint8 RGB [1, H, W, 3] and do the backbone's scaling
inside; decoding and resizing stay outside, as in mobile runtimes. This module is that outside: the
parity gate and `snout predict --model file.tflite` both feed the interpreter through `app_pixels`.
The interpreter is LiteRT's (ai-edge-litert), the runtime Google ships for TFLite files.
"""

from __future__ import annotations

import zipfile
from typing import List, Optional, Sequence, Tuple

import numpy as np

import contract


def app_pixels(encoded: bytes, height: int, width: int) -> np.ndarray:
    """One encoded JPEG/PNG/GIF/BMP -> uint8 [height, width, 3]: decode, bilinear resize without antialiasing
    (what TFLite Support's ResizeOp(BILINEAR) does on Android), round to the nearest integer."""
    import tensorflow as tf

    image = tf.io.decode_image(encoded, channels=3, expand_animations=False, dtype=tf.uint8)
    resized = tf.image.resize(tf.cast(image, tf.float32), [height, width], method="bilinear", antialias=False)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8).numpy()


def labels_in(tflite_path: str) -> List[str]:
    """The class names packed in the file's metadata (labels.txt, zipped onto the model as TFLite
    Model Metadata's associated files are)."""
    try:
        with zipfile.ZipFile(tflite_path) as packed:
            text = packed.read(contract.VOCABULARY_FILE).decode("utf-8")
    except (zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{tflite_path} carries no {contract.VOCABULARY_FILE} in its metadata ({e})") from None
    return contract.parse_vocabulary(text, f"{tflite_path}:{contract.VOCABULARY_FILE}")


class LiteClassifier:
    """One .tflite file in LiteRT's interpreter: uint8 [1, H, W, 3] -> float32 probabilities."""

    def __init__(self, model: "str | bytes", num_threads: Optional[int] = None):
        from ai_edge_litert.interpreter import Interpreter

        source = {"model_path": model} if isinstance(model, str) else {"model_content": bytes(model)}
        self.interpreter = Interpreter(**source, num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        _, self.height, self.width, _ = (int(d) for d in self._input["shape"])

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """float32 [C] for one uint8 [H, W, 3] image."""
        self.interpreter.set_tensor(self._input["index"], pixels[np.newaxis])
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self._output["index"])[0], dtype=np.float32)

    def classify(self, encoded: bytes) -> np.ndarray:
        return self.probabilities(app_pixels(encoded, self.height, self.width))


def predict_files(tflite_path: str, inputs: Sequence[Tuple[str, str]]):
    """({file id: probabilities}, [(path, reason skipped)]) for (file id, path) pairs, one image at a time."""
    import tensorflow as tf

    from serving.batch_predict import check_bytes

    classifier = LiteClassifier(tflite_path)
    predictions, skipped = {}, []
    for file_id, path in inputs:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            skipped.append((path, f"cannot read: {e.strerror or e}"))
            continue
        problem = check_bytes(data)
        if problem:
            skipped.append((path, problem))
            continue
        try:
            predictions[file_id] = classifier.classify(data).tolist()
        except tf.errors.InvalidArgumentError as e:  # a damaged image with a good header
            skipped.append((path, f"not a readable image: {e.message.strip().splitlines()[0][:120]}"))
    return predictions, skipped
