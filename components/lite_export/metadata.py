"""TFLite Model Metadata, written with tflite-support's metadata writer (0.4.4).

What the standard image-classifier APIs (TFLite Task Library's ImageClassifier on Android and iOS,
Android Studio's ML Binding) read: an RGB image input, its normalization, and a probability output
whose labels are an associated file (labels.txt, zipped onto the end of the model).

The input is uint8 pixels and the backbone's scaling runs inside the graph, so the normalization
the metadata describes for the app is the identity (mean 0, std 1: feed the pixels as they are); the
in-graph scaling is named in the input's description. Those APIs normalize only float inputs anyway.

Imported from tensorflow_lite_support directly: `tflite_support/__init__` also loads the Task
Library, whose pybind11 types clash with TensorFlow's in one process.
"""

from __future__ import annotations

import os
import tempfile
from typing import List, Sequence

import contract

# The pixel range each scaling maps [0, 255] to (trainer/backbones.py), for the input's description.
SCALING_TEXT = {
    "minus_one_to_one": "x / 127.5 - 1 (MobileNetV2's [-1, 1])",
    "zero_to_one": "x / 255 ([0, 1])",
    "zero_to_255": "none (the network takes [0, 255])",
    "caffe_bgr": "RGB to BGR minus the ImageNet channel means (VGG's caffe mode)",
}


def with_metadata(model: bytes, class_names: Sequence[str], scaling: str, height: int, width: int,
                  variant: str) -> bytes:
    """`model` with TFLite Model Metadata and labels.txt packed in."""
    from tensorflow_lite_support.metadata import metadata_schema_py_generated as schema
    from tensorflow_lite_support.metadata.python.metadata_writers import image_classifier, metadata_info, writer_utils

    buffer = bytearray(model)
    with tempfile.TemporaryDirectory(prefix="snout-lite-labels-") as tmp:
        labels = os.path.join(tmp, contract.VOCABULARY_FILE)  # the writer packs the file under its base name
        with open(labels, "w", encoding="utf-8", newline="") as f:
            f.write("".join(name + "\n" for name in class_names))
        general = metadata_info.GeneralMd(
            name=f"snout image classifier ({variant})",
            description=f"Classifies an image into one of {len(class_names)} classes: {', '.join(class_names[:20])}"
                        + (", ..." if len(class_names) > 20 else "") + ". Trained and gated by snout.")
        image = metadata_info.InputImageTensorMd(
            name="image", description=f"RGB pixels, uint8 [1, {height}, {width}, 3]: decode, then resize bilinearly "
                                      f"to {width}x{height}; the backbone's scaling, {SCALING_TEXT.get(scaling, scaling)}, "
                                      "runs inside the model",
            norm_mean=[0.0], norm_std=[1.0], color_space_type=schema.ColorSpaceType.RGB,
            tensor_type=writer_utils.get_input_tensor_types(buffer)[0])
        probabilities = metadata_info.ClassificationTensorMd(
            name="probability", description="Probability of each class, in the order of labels.txt",
            label_files=[metadata_info.LabelFileMd(file_path=labels)],
            tensor_type=writer_utils.get_output_tensor_types(buffer)[0])
        writer = image_classifier.MetadataWriter.create_from_metadata_info(
            buffer, general_md=general, input_md=image, output_md=probabilities)
        return bytes(writer.populate())


def read_metadata(model: bytes) -> dict:
    """(for tests and the report) the metadata as JSON and the packed labels, read back with tflite-support."""
    import json

    from tensorflow_lite_support.metadata.python import metadata

    displayer = metadata.MetadataDisplayer.with_model_buffer(model)
    labels: List[str] = []
    if contract.VOCABULARY_FILE in displayer.get_packed_associated_file_list():
        labels = contract.parse_vocabulary(displayer.get_associated_file_buffer(contract.VOCABULARY_FILE).decode())
    return {"metadata": json.loads(displayer.get_metadata_json()), "labels": labels}


def runtime_problem() -> "str | None":
    """Why the edge export cannot run here (tflite-support's metadata library or LiteRT's interpreter will not
    load), or None. tflite-support's native code needs the system's libusb-1.0 (Debian: libusb-1.0-0)."""
    try:
        from tensorflow_lite_support.metadata.python import metadata  # noqa: F401
        from ai_edge_litert import interpreter  # noqa: F401
    except ImportError as e:
        hint = " (install libusb-1.0-0 with apt-get; setup.sh does as root)" if "libusb" in str(e) else ""
        return f"cannot load the TFLite tools: {e}{hint}"
    return None
