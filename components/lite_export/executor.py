"""LiteExport's executor: convert, add metadata, run the parity gate, time; write the LiteModel artifact.

The artifact's folder holds model.tflite, model_int8.tflite, labels.txt and lite_parity.json (every
number the report and the terminal show). LitePusher (push.py) copies the variants that passed.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import List

import numpy as np
from absl import logging
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

import contract
from contract import lite as lite_contract
from components.lite_export import conversion, examples, latency, parity
from components.lite_export.metadata import with_metadata
from components.lite_export.settings import LiteSettings
from serving.lite_predict import LiteClassifier, app_pixels

SETTINGS_KEY = "settings"
INTERPRETER = "ai-edge-litert"


def _model_facts(model_dir: str):
    """(class names, the backbone's input scaling) from the exported model's assets.extra."""
    import tensorflow as tf

    extra = os.path.join(model_dir, contract.MODEL_EXTRA_DIR)
    with tf.io.gfile.GFile(os.path.join(extra, contract.VOCABULARY_FILE)) as f:
        class_names = contract.parse_vocabulary(f.read())
    with tf.io.gfile.GFile(os.path.join(extra, contract.MODEL_INFO_FILE)) as f:
        scaling = json.load(f).get(lite_contract.INPUT_SCALING_KEY, "")
    return class_names, scaling


def variables_bytes(model_dir: str) -> int:
    """The SavedModel's weights on disk (variables/), what a TFLite file's size is compared with."""
    import tensorflow as tf

    folder = os.path.join(model_dir, "variables")
    return sum(tf.io.gfile.stat(os.path.join(folder, name)).length for name in tf.io.gfile.listdir(folder))


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]


def _failed(variant: str, why: str) -> dict:
    file_name = lite_contract.VARIANT_FILES[variant]
    return {"file": file_name, "passed": False, "error": why, "sentence": f"{file_name} was not pushed: {why}."}


def failure_record(error: Exception, split: str) -> dict:
    """lite_parity.json when the export as a whole failed (LitePusher then pushes nothing, and says why)."""
    why = f"the edge export failed: {type(error).__name__}: {_first_line(error)}"
    return {"split": split, "error": why, "variants": {v: _failed(v, why) for v in lite_contract.VARIANT_FILES}}


def _interpreter_version() -> str:
    from importlib import metadata

    return f"{INTERPRETER} {metadata.version(INTERPRETER)}"


def export_lite_models(model_dir: str, train_records: List[bytes], graded_records: List[bytes],
                       settings: LiteSettings, out_dir: str) -> dict:
    """Writes the two .tflite files, labels.txt and lite_parity.json into `out_dir`; returns the parity."""
    with latency.LatencyProbe(model_dir, settings.latency_runs) as probe:  # it starts now, to time at the end
        return _export(model_dir, train_records, graded_records, settings, out_dir, probe)


def _export(model_dir: str, train_records: List[bytes], graded_records: List[bytes], settings: LiteSettings,
            out_dir: str, probe: latency.LatencyProbe) -> dict:
    import tensorflow as tf

    started = time.time()
    class_names, scaling = _model_facts(model_dir)
    loaded, concrete, height, width = conversion.pixels_function(model_dir)
    calibration = [app_pixels(image, height, width) for image in examples.images_and_labels(
        examples.seeded_sample(train_records, settings.calibration_images, settings.seed))[0]]
    models, variants = _convert(loaded, concrete, calibration, settings,
                                lambda model, variant: with_metadata(model, class_names, scaling, height, width, variant))
    converted = time.time()

    images, labels = examples.images_and_labels(graded_records)
    if not images:
        raise ValueError(f"the {settings.split} split holds no example to check the TFLite models on")
    pixels = np.stack([app_pixels(image, height, width) for image in images])
    reference = parity.saved_model_probabilities(loaded, graded_records)
    # The SavedModel's own network on an app's bilinear uint8 pixels instead of Transform's antialiased
    # float resize: what the resize alone costs, before any conversion.
    app_resize = parity.compare(reference, parity.pixels_probabilities(
        getattr(loaded, lite_contract.PIXELS_FUNCTION), pixels), labels)
    for variant, model in models.items():
        candidate = parity.interpreter_probabilities(LiteClassifier(model), pixels)
        variants[variant] = dict(parity.verdict(lite_contract.VARIANT_FILES[variant], parity.compare(
            reference, candidate, labels), settings, settings.split), bytes=len(model))
    variants = {variant: dict(variants[variant], file=lite_contract.VARIANT_FILES[variant],
                              weights=settings.float_weights if variant == "float" else variant)
                for variant in lite_contract.VARIANT_FILES}  # float first
    checked = time.time()

    timings = _write_models_and_time(models, probe, pixels[0], out_dir)
    for variant in variants:
        variants[variant]["latency_ms"] = timings.get(variant)
        variants[variant]["latency_median_ms"] = timings.get("median", {}).get(variant)
    result = {
        "split": settings.split, "example_count": int(len(labels)), "class_names": class_names,
        "input": {"dtype": "uint8", "shape": [1, height, width, 3], "scaling_inside": scaling,
                  "resize": "bilinear, no antialiasing (serving/lite_predict.app_pixels)"},
        "saved_model": {"accuracy": float(np.mean(reference.argmax(axis=1) == labels)),
                        "latency_ms": timings.get("saved_model"),
                        "latency_median_ms": timings.get("median", {}).get("saved_model"),
                        "variables_bytes": variables_bytes(model_dir)},
        "app_resize": app_resize,
        "calibration": {"images": len(calibration), "requested": settings.calibration_images,
                        "available": len(train_records), "split": contract.TRAIN_SPLIT, "seed": settings.seed},
        "rule": {"max_accuracy_drop": settings.max_accuracy_drop, "alpha": settings.alpha},
        "variants": variants, "interpreter": _interpreter_version(), "latency_error": timings.get("error"),
        "seconds": {"conversion": round(converted - started, 2), "parity": round(checked - converted, 2),
                    "latency": round(time.time() - checked, 2)},
    }
    with tf.io.gfile.GFile(os.path.join(out_dir, contract.VOCABULARY_FILE), "w") as f:
        f.write("".join(name + "\n" for name in class_names))
    write_json(out_dir, lite_contract.PARITY_FILE, result)
    return result


def _convert(loaded, concrete, calibration, settings: LiteSettings, add_metadata):
    """({variant: TFLite bytes with metadata}, {variant: failure record} for those the converter refused)."""
    converters = {"float": lambda: conversion.convert_float(loaded, concrete, settings.float_weights),
                  "int8": lambda: conversion.convert_int8(loaded, concrete, lambda: calibration)}
    models, failed = {}, {}
    for variant, convert in converters.items():
        try:  # a network the converter refuses costs this variant, never the SavedModel's push
            models[variant] = add_metadata(convert(), variant)
        except Exception as e:  # noqa: BLE001 - the converter raises many kinds; each is a reason not to push
            failed[variant] = _failed(variant, f"the conversion failed: {type(e).__name__}: {_first_line(e)}")
    return models, failed


def _write_models_and_time(models: dict, probe: latency.LatencyProbe, pixels, out_dir: str) -> dict:
    """Writes the .tflite files into `out_dir`; returns their single-thread latency and the SavedModel's."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="snout-lite-") as local:  # the probe reads local files
        paths = {variant: os.path.join(local, lite_contract.VARIANT_FILES[variant]) for variant in models}
        for variant, model in models.items():
            with open(paths[variant], "wb") as f:
                f.write(model)
        timings = probe.measure(paths, pixels)
        tf.io.gfile.makedirs(out_dir)
        for path in paths.values():
            tf.io.gfile.copy(path, os.path.join(out_dir, os.path.basename(path)), overwrite=True)
    return timings


def write_json(folder: str, name: str, value: dict) -> None:
    import tensorflow as tf

    tf.io.gfile.makedirs(folder)
    with tf.io.gfile.GFile(os.path.join(folder, name), "w") as f:
        f.write(json.dumps(value, indent=1, sort_keys=True))


class Executor(base_executor.BaseExecutor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        settings = LiteSettings.from_config(json.loads(exec_properties[SETTINGS_KEY]))
        model = artifact_utils.get_single_instance(input_dict["model"])
        data = artifact_utils.get_single_instance(input_dict["examples"])
        lite_model = artifact_utils.get_single_instance(output_dict["lite_model"])
        model_dir = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        try:
            result = export_lite_models(model_dir, examples.split_records(data, contract.TRAIN_SPLIT),
                                        examples.split_records(data, settings.split), settings, lite_model.uri)
        except Exception as e:  # noqa: BLE001 - the SavedModel's push must not depend on the edge export
            logging.exception("LiteExport failed")
            result = failure_record(e, settings.split)
            write_json(lite_model.uri, lite_contract.PARITY_FILE, result)
        for variant, numbers in result["variants"].items():
            lite_model.set_int_custom_property(f"{variant}_passed", int(numbers["passed"]))
            logging.info("LiteExport: %s", numbers["sentence"])
        logging.info("LiteExport: %s", json.dumps(result.get("seconds")))
