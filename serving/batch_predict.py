"""Offline bulk prediction: a SavedModel over files or folders, as a Beam job (`snout predict --model`).

Beam's RunInference with its TensorFlow model handler batches the images and calls the
model's `serving_default` signature (raw image bytes in, probabilities out), so the same
job runs on the DirectRunner here and on Dataflow/Flink/Spark with their Beam options.
A file the model cannot decode is set aside with its reason, never sent to the model:
one bad file must not fail the batch it would have been in.
"""

from __future__ import annotations

import csv
import importlib
import os
import sys
import types
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import contract

# Where the Pusher's exported model keeps its class names (trainer/export.py).
MODEL_LABELS_DIR = "assets.extra"
FORMATS = ("snout", "kaggle")


def _tf_inference_module():
    """apache_beam's tensorflow_inference imports tensorflow_hub 0.15, which imports
    pkg_resources (gone from the pinned setuptools 84) only for `parse_version`."""
    if importlib.util.find_spec("pkg_resources") is None and "pkg_resources" not in sys.modules:
        from packaging.version import parse

        sys.modules["pkg_resources"] = types.SimpleNamespace(parse_version=parse)
    return importlib.import_module("apache_beam.ml.inference.tensorflow_inference")


def model_class_names(model_dir: str) -> List[str]:
    """The exported model's labels, in class-index order."""
    return contract.read_vocabulary(os.path.join(model_dir, MODEL_LABELS_DIR))


def list_inputs(paths: Sequence[str]) -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]:
    """(file id, path) for every file named or under a named folder (hidden ones left out),
    and (path, reason) for arguments that are neither. The id is the path relative to its
    folder without the extension: Kaggle's `id` for a flat test/ folder."""
    found, missing = [], []
    for given in paths:
        if os.path.isfile(given):
            found.append((os.path.splitext(os.path.basename(given))[0], given))
        elif os.path.isdir(given):
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        path = os.path.join(root, name)
                        found.append((os.path.splitext(os.path.relpath(path, given))[0], path))
        else:
            missing.append((given, "no such file or folder"))
    return _unique_ids(found), missing


def _unique_ids(found: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """Ids that two files share (cat.jpg, cat.png) fall back to the path as given."""
    counts: Dict[str, int] = {}
    for file_id, _ in found:
        counts[file_id] = counts.get(file_id, 0) + 1
    return [(file_id if counts[file_id] == 1 else path, path) for file_id, path in found]


def check_image(data: bytes) -> Optional[str]:
    """Why the model could not take these bytes, or None: the serving graph's own decoder decides."""
    import tensorflow as tf

    if not data:
        return "empty file"
    try:
        tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.OutOfRangeError) as e:
        return f"not a readable image: {e.message.splitlines()[0][:120]}"
    return None


def _read_and_check(item, skipped_tag: str):
    import apache_beam as beam

    file_id, path = item
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        yield beam.pvalue.TaggedOutput(skipped_tag, (path, f"cannot read: {e.strerror or e}"))
        return
    problem = check_image(data)
    if problem:
        yield beam.pvalue.TaggedOutput(skipped_tag, (path, problem))
    else:
        yield file_id, data


def _signature_inference(model, batch, inference_args, model_id=None):
    """RunInference's inference_fn: the image-bytes signature on the stacked batch."""
    import tensorflow as tf
    from apache_beam.ml.inference.base import PredictionResult

    outputs = model.signatures[contract.SIGNATURE_IMAGE_BYTES](
        **{contract.SERVING_IMAGE_INPUT: tf.constant(list(batch), dtype=tf.string)})
    probabilities = outputs[contract.OUTPUT_PROBABILITIES].numpy()
    return [PredictionResult(example, row, model_id) for example, row in zip(batch, probabilities)]


def model_handler(model_dir: str, max_batch_size: int):
    """Beam's TensorFlow model handler, loading the SavedModel as a plain tf.Module
    (tf.keras' loader does not load a TFX-exported serving model)."""
    module = _tf_inference_module()

    class SavedModelHandler(module.TFModelHandlerTensor):
        def load_model(self):
            import tensorflow as tf

            return tf.saved_model.load(self._model_uri)

    return SavedModelHandler(model_dir, inference_fn=_signature_inference,
                             max_batch_size=max_batch_size, min_batch_size=1)


def header(class_names: Sequence[str], output_format: str) -> List[str]:
    if output_format == "kaggle":
        return ["id", *class_names]
    return ["id", "label", "confidence", *class_names]


def row(file_id: str, probabilities, class_names: Sequence[str], output_format: str) -> List[str]:
    values = [f"{float(p):.6g}" for p in probabilities]
    if output_format == "kaggle":
        return [file_id, *values]
    best = max(range(len(class_names)), key=lambda i: float(probabilities[i]))
    return [file_id, class_names[best], f"{float(probabilities[best]):.6g}", *values]


def run(model_dir: str, inputs: Sequence[Tuple[str, str]], beam_args: Sequence[str], out_dir: str,
        batch_size: int = 32) -> Tuple[str, str]:
    """Writes predictions (file id, probabilities) and skipped files (path, reason) as
    sharded text under `out_dir`; returns the two shard patterns."""
    import apache_beam as beam
    from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
    from apache_beam.options.pipeline_options import PipelineOptions

    skipped_tag = "skipped"
    handler = KeyedModelHandler(model_handler(model_dir, batch_size))
    predictions_prefix, skipped_prefix = os.path.join(out_dir, "predictions"), os.path.join(out_dir, "skipped")
    with beam.Pipeline(options=PipelineOptions(list(beam_args))) as p:
        checked = (p | "Files" >> beam.Create(list(inputs))
                   | "Spread" >> beam.Reshuffle()
                   | "ReadAndCheck" >> beam.FlatMap(_read_and_check, skipped_tag).with_outputs(
                       skipped_tag, main="images"))
        _ = (checked.images | "Predict" >> RunInference(handler)
             | "ToJson" >> beam.Map(lambda kv: _json_line(kv[0], kv[1].inference))
             | "WritePredictions" >> beam.io.WriteToText(predictions_prefix, ".jsonl"))
        _ = (checked[skipped_tag] | "SkippedToJson" >> beam.Map(lambda s: _json_line(*s))
             | "WriteSkipped" >> beam.io.WriteToText(skipped_prefix, ".jsonl"))
    return predictions_prefix + "*.jsonl", skipped_prefix + "*.jsonl"


def _json_line(key: str, value) -> str:
    import json

    return json.dumps([key, value.tolist() if hasattr(value, "tolist") else value])


def read_shards(pattern: str) -> Iterable[list]:
    import glob
    import json

    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            for line in f:
                yield json.loads(line)


def write_csv(out_path: str, predictions: Dict[str, list], class_names: Sequence[str], output_format: str) -> int:
    """One row per image, sorted by file id; returns the number of rows."""
    with open(out_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header(class_names, output_format))
        for file_id in sorted(predictions):
            writer.writerow(row(file_id, predictions[file_id], class_names, output_format))
    return len(predictions)
