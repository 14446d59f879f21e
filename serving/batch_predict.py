"""Offline bulk prediction: a SavedModel over files or folders, as a Beam job (`snout predict --model`).

Beam's RunInference with its TensorFlow model handler batches the images and calls the
model's `serving_default` signature (raw image bytes in, probabilities out), so the same
job runs on the DirectRunner here and on Dataflow/Flink/Spark with their Beam options.
Every file ends as a prediction or as skipped with its reason, never as a failed run.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import sys
import types
from typing import Dict, List, Optional, Sequence, Tuple

import contract
from serving.selective import label_or_unsure


def _provide_pkg_resources() -> None:
    """apache_beam's tensorflow_inference imports tensorflow_hub 0.15, which imports
    pkg_resources (gone from the pinned setuptools 84) only for `parse_version`."""
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        from packaging.version import parse

        sys.modules["pkg_resources"] = types.SimpleNamespace(parse_version=parse)


# At import: Beam's workers unpickle the handler by importing this module first.
_provide_pkg_resources()
from apache_beam.ml.inference import tensorflow_inference  # noqa: E402


def model_class_names(model_dir: str) -> List[str]:
    """The exported model's labels, in class-index order."""
    return contract.read_vocabulary(os.path.join(model_dir, contract.MODEL_EXTRA_DIR))


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


def check_bytes(data: bytes) -> Optional[str]:
    """Why these bytes cannot be an image the model decodes (JPEG, PNG, GIF, BMP), or None.
    Cheap (magic bytes): a damaged image with a good header is caught by the model itself."""
    if not data:
        return "empty file"
    if contract.image_format(data) is None:
        return "not an image (JPEG, PNG, GIF or BMP expected)"
    return None


def _read_and_check(item, skipped_tag: str):
    import apache_beam as beam

    path = item
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        yield beam.pvalue.TaggedOutput(skipped_tag, (path, f"cannot read: {e.strerror or e}"))
        return
    problem = check_bytes(data)
    if problem:
        yield beam.pvalue.TaggedOutput(skipped_tag, (path, problem))
    else:
        yield path, data


def _probabilities(signature, images: Sequence[bytes]):
    import tensorflow as tf

    outputs = signature(**{contract.SERVING_IMAGE_INPUT: tf.constant(list(images), dtype=tf.string)})
    return outputs[contract.OUTPUT_PROBABILITIES].numpy()


def _refusal(error) -> str:
    # TF prefixes its message with the op's location ("{{function_node ...}} "): keep the reason.
    reason = re.sub(r"\{\{[^}]*\}\}\s*", "", error.message).strip().splitlines()[0]
    return f"not a readable image: {reason[:120]}"


def _signature_inference(model, batch, inference_args, model_id=None):
    """RunInference's inference_fn: the image-bytes signature on the whole batch. A batch the
    model refuses is retried image by image; a refused image gets its reason (a str) in place
    of probabilities, so one damaged file never costs the others their predictions."""
    import tensorflow as tf
    from apache_beam.ml.inference.base import PredictionResult

    signature = model.signatures[contract.SIGNATURE_IMAGE_BYTES]
    try:
        rows = list(_probabilities(signature, batch))
    except tf.errors.InvalidArgumentError:
        rows = []
        for image in batch:
            try:
                rows.append(_probabilities(signature, [image])[0])
            except tf.errors.InvalidArgumentError as e:
                rows.append(_refusal(e))
    return [PredictionResult(image, row, model_id) for image, row in zip(batch, rows)]


class SavedModelHandler(tensorflow_inference.TFModelHandlerTensor):
    """Beam's TensorFlow model handler, loading the SavedModel as a plain tf.Module
    (tf.keras' loader does not load a TFX-exported serving model)."""

    def load_model(self):
        import tensorflow as tf

        return tf.saved_model.load(self._model_uri)


def model_handler(model_dir: str, max_batch_size: int) -> SavedModelHandler:
    return SavedModelHandler(model_dir, inference_fn=_signature_inference,
                             max_batch_size=max_batch_size, min_batch_size=1)


def header(class_names: Sequence[str], output_format: str) -> List[str]:
    if output_format == "kaggle":
        return ["id", *class_names]
    return ["id", "label", "confidence", *class_names]


def row(file_id: str, probabilities, class_names: Sequence[str], output_format: str,
        min_confidence: Optional[float] = None) -> List[str]:
    values = [f"{float(p):.6g}" for p in probabilities]
    if output_format == "kaggle":
        return [file_id, *values]
    label, confidence = label_or_unsure(probabilities, class_names, min_confidence)
    return [file_id, label, f"{confidence:.6g}", *values]


def run(model_dir: str, paths: Sequence[str], beam_args: Sequence[str], out_dir: str,
        batch_size: int = 32) -> str:
    """Writes one JSON line per file, [path, probabilities] or [path, reason it was skipped],
    as text shards under `out_dir`; returns their pattern."""
    import apache_beam as beam
    from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
    from apache_beam.options.pipeline_options import PipelineOptions

    skipped_tag = "skipped"
    handler = KeyedModelHandler(model_handler(model_dir, batch_size))
    prefix = os.path.join(out_dir, "results")
    with beam.Pipeline(options=PipelineOptions(list(beam_args))) as p:
        checked = (p | "Files" >> beam.Create(list(paths))
                   | "Spread" >> beam.Reshuffle()
                   | "ReadAndCheck" >> beam.FlatMap(_read_and_check, skipped_tag).with_outputs(
                       skipped_tag, main="images"))
        predicted = (checked.images | "Predict" >> RunInference(handler)
                     | "Probabilities" >> beam.MapTuple(lambda path, result: (path, result.inference)))
        _ = ((predicted, checked[skipped_tag]) | beam.Flatten()
             | "ToJson" >> beam.MapTuple(_json_line)
             | "Write" >> beam.io.WriteToText(prefix, ".jsonl"))
    return prefix + "*.jsonl"


def _json_line(path: str, value) -> str:
    import json

    return json.dumps([path, value.tolist() if hasattr(value, "tolist") else value])


def read_results(pattern: str) -> Tuple[Dict[str, list], List[Tuple[str, str]]]:
    """({path: probabilities}, [(path, reason skipped)]) from run()'s shards."""
    import glob
    import json

    predictions, skipped = {}, []
    for shard in sorted(glob.glob(pattern)):
        with open(shard) as f:
            for line in f:
                path, value = json.loads(line)
                if isinstance(value, str):
                    skipped.append((path, value))
                else:
                    predictions[path] = value
    return predictions, skipped


def write_csv(out_path: str, predictions: Dict[str, list], class_names: Sequence[str], output_format: str,
              min_confidence: Optional[float] = None) -> int:
    """One row per image, sorted by file id (label `unsure` below min_confidence); returns the number of rows."""
    with open(out_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header(class_names, output_format))
        for file_id in sorted(predictions):
            writer.writerow(row(file_id, predictions[file_id], class_names, output_format, min_confidence))
    return len(predictions)
