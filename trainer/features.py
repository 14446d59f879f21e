"""Feature names shared by Transform, training and export (mirrors components/records.py).

Kept inside trainer/ because TFX packages only this folder as user code.
"""

IMAGE_KEY = "image"
LABEL_KEY = "label"
TRANSFORMED_IMAGE_KEY = "image_xf"

# Serving contract (see serving/ and README): input and output names of the exported model.
SERVING_IMAGE_INPUT = "image_bytes"
SERVING_EXAMPLES_INPUT = "examples"
CLASSIFY_INPUT = "inputs"
OUTPUT_PROBABILITIES = "probabilities"
OUTPUT_CLASS_INDEX = "class_index"
OUTPUT_CLASS_NAME = "class_name"
SIGNATURE_IMAGE_BYTES = "serving_default"
SIGNATURE_TF_EXAMPLE = "serving_tf_example"
SIGNATURE_CLASSIFY = "classification"
