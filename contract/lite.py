"""The edge (LiteRT/TFLite) export's names, shared by the exporter, the push, `snout predict` and the report.

    <serving_dir>/<model>-lite/<version>/   (the same version as <serving_dir>/<model>/<version>/)
        model.tflite        float weights (float16 by default), uint8 RGB [1, H, W, 3] in, float32 probabilities out
        model_int8.tflite   full-integer, the same input and output
        labels.txt          the class names, also inside each .tflite as TFLite Model Metadata
        lite_parity.json    the parity gate: each variant against the SavedModel on the test split

A variant that fails the parity gate is not pushed (its file is absent; lite_parity.json says why).
"""

from __future__ import annotations

import os

LITE_SUFFIX = "-lite"
FLOAT_FILE = "model.tflite"
INT8_FILE = "model_int8.tflite"
PARITY_FILE = "lite_parity.json"
# Variant name -> file name, in the order the report and the terminal list them.
VARIANT_FILES = {"float": FLOAT_FILE, "int8": INT8_FILE}
TFLITE_EXTENSION = ".tflite"

# MLMD artifact types of LiteExport's output and LitePusher's record. KFP's container entrypoint
# imports a custom type by this name (<module>.<Class>), so it is where the class is found.
LITE_MODEL_TYPE = "components.LiteModel"
LITE_PUSH_TYPE = "components.LitePushedModel"
# LitePushedModel's custom properties (pushed, pushed_version, pushed_destination as on TFX's PushedModel).
PUSH_UNCHANGED_KEY = "already_pushed"   # 1: the same files were already there (a rerun)
PUSH_VARIANTS_KEY = "variants"          # the variants copied, comma-separated
PUSH_REASON_KEY = "reason"              # why nothing was pushed

# The exported SavedModel's tf.function attribute (not a signature: the serving contract has three):
# uint8 RGB pixels [N, H, W, 3] -> the backbone's scaling -> the same network call as the signatures.
PIXELS_FUNCTION = "pixels_to_probabilities"
# The provenance key (assets.extra/snout_model.json) naming the backbone's input scaling inside that function.
INPUT_SCALING_KEY = "input_scaling"


def lite_base_dir(model_serving_dir: str) -> str:
    """<serving_dir>/<model>-lite beside <serving_dir>/<model>."""
    return model_serving_dir.rstrip("/") + LITE_SUFFIX


def is_tflite_file(path: str) -> bool:
    return path.endswith(TFLITE_EXTENSION) and os.path.isfile(path)
