"""TensorFlow's own converter on the exported SavedModel's pixels_to_probabilities.

Both files take uint8 RGB [1, H, W, 3] (the backbone's scaling runs inside, from the SavedModel's
function) and return float32 probabilities:
- float: float16 weights (or float32), float arithmetic;
- int8: full-integer (TFLITE_BUILTINS_INT8 only), activations calibrated on representative images; the
  uint8 input is cast and quantized in the graph, the int8 softmax dequantized at the output.
"""

from __future__ import annotations

import warnings
from typing import Callable, Iterable

import numpy as np

from contract import lite as lite_contract


def pixels_function(model_dir: str):
    """(loaded SavedModel, concrete function uint8 [1, H, W, 3] -> probabilities, H, W)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(model_dir)
    function = getattr(loaded, lite_contract.PIXELS_FUNCTION, None)
    if function is None:
        raise ValueError(f"{model_dir} has no {lite_contract.PIXELS_FUNCTION} function (exported by a snout "
                         "older than the edge export): retrain to export it")
    (spec,), _ = function.concrete_functions[0].structured_input_signature
    height, width = int(spec.shape[1]), int(spec.shape[2])

    @tf.function(input_signature=[tf.TensorSpec([1, height, width, 3], tf.uint8, name="image")])
    def one_image(image):  # batch 1, as a phone calls it (the SavedModel's function takes any batch)
        return function(image)

    return loaded, one_image.get_concrete_function(), height, width


def _converter(loaded, concrete):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], loaded)
    # By default the converter first saves the whole loaded SavedModel (every signature) to a temporary
    # folder and loads it twice, for each file. The frozen function converts to the same predictions
    # (128 px MobileNetV2: max |probability difference| 0.0 on 64 images, both files) in 2.0 s instead of
    # 5.9 (float16) and 6.6 s instead of 10.8 (int8).
    converter.experimental_lower_to_saved_model = False
    return converter


def convert_float(loaded, concrete, weights: str = "float16") -> bytes:
    import tensorflow as tf

    converter = _converter(loaded, concrete)
    if weights == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def convert_int8(loaded, concrete, representative: Callable[[], Iterable[np.ndarray]]) -> bytes:
    """Full-integer: every op int8 (the converter fails rather than leave one in float)."""
    import tensorflow as tf

    converter = _converter(loaded, concrete)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([pixels[np.newaxis]] for pixels in representative())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.float32
    with warnings.catch_warnings():
        # The frozen-graph path asks for the uint8 input's quantization statistics: there are none to give,
        # since the function's input is uint8 already and is cast and quantized inside the graph.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        return converter.convert()
