"""Read and fix SignatureDefs in a saved_model.pb without loading the model.

TF2's `tf.saved_model.save` writes every signature with method_name
"tensorflow/serving/predict". TF Serving's Classify API only accepts a signature
whose method_name is "tensorflow/serving/classify", so the exporter rewrites it
with `mark_classify_signature` right after saving, and then recomputes the
`fingerprint.pb` TF wrote beside it (it hashes saved_model.pb) with TF's own
fingerprinting, so fingerprint and graph agree.
"""

from __future__ import annotations

import os
from typing import Dict

from contract import (CLASSIFY_INPUT, CLASSIFY_METHOD_NAME, CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES,
                      MODEL_EXTRA_DIR, SERVE_TAG)

# TF Serving replays these requests when it loads a version (a TFRecord of PredictionLog).
WARMUP_REQUESTS_FILE = os.path.join(MODEL_EXTRA_DIR, "tf_serving_warmup_requests")
FINGERPRINT_FILE = "fingerprint.pb"


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def _saved_model_pb_path(saved_model_dir: str) -> str:
    return os.path.join(saved_model_dir, "saved_model.pb")


def read_saved_model_proto(saved_model_dir: str):
    """The parsed SavedModel proto of `saved_model_dir` (FileNotFoundError if absent)."""
    from tensorflow.core.protobuf import saved_model_pb2

    gfile = _gfile()
    path = _saved_model_pb_path(saved_model_dir)
    if not gfile.exists(path):
        raise FileNotFoundError(f"no saved_model.pb in {saved_model_dir}")
    proto = saved_model_pb2.SavedModel()
    with gfile.GFile(path, "rb") as f:
        proto.ParseFromString(f.read())
    return proto


def _serving_meta_graph(proto):
    for meta_graph in proto.meta_graphs:
        if SERVE_TAG in meta_graph.meta_info_def.tags:
            return meta_graph
    if len(proto.meta_graphs) == 1:
        return proto.meta_graphs[0]
    raise ValueError("SavedModel has no MetaGraph tagged 'serve'")


def read_signature_defs(saved_model_dir: str) -> Dict[str, object]:
    """{signature name: SignatureDef} of the 'serve' MetaGraph, as TF Serving sees them."""
    meta_graph = _serving_meta_graph(read_saved_model_proto(saved_model_dir))
    return {name: meta_graph.signature_def[name] for name in meta_graph.signature_def}


def mark_classify_signature(saved_model_dir: str, signature_name: str = "classification") -> bool:
    """Set `signature_name`'s method_name to tensorflow/serving/classify in saved_model.pb.

    Checks that the signature has what TF Serving's Classify needs (a string input
    named "inputs" and a "classes" and/or "scores" output) and raises ValueError with
    a one-line reason if not, or if no MetaGraph has the signature. Idempotent; the
    file is replaced atomically (written next to it, then renamed). Returns True if
    the file changed, False if the signature was already marked.
    """
    from tensorflow.core.framework import types_pb2

    gfile = _gfile()
    proto = read_saved_model_proto(saved_model_dir)
    found = False
    changed = False
    for meta_graph in proto.meta_graphs:
        if signature_name not in meta_graph.signature_def:
            continue
        found = True
        signature = meta_graph.signature_def[signature_name]
        if CLASSIFY_INPUT not in signature.inputs or len(signature.inputs) != 1:
            raise ValueError(
                f"signature {signature_name!r} must have exactly one input named "
                f"{CLASSIFY_INPUT!r} for TF Serving's Classify API, has {sorted(signature.inputs)}")
        if signature.inputs[CLASSIFY_INPUT].dtype != types_pb2.DT_STRING:
            raise ValueError(f"signature {signature_name!r} input {CLASSIFY_INPUT!r} must be a "
                             "string tensor of serialized tf.Examples")
        outputs = set(signature.outputs)
        if not outputs & {CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES}:
            raise ValueError(f"signature {signature_name!r} needs a {CLASSIFY_OUTPUT_CLASSES!r} "
                             f"and/or {CLASSIFY_OUTPUT_SCORES!r} output, has {sorted(outputs)}")
        if signature.method_name != CLASSIFY_METHOD_NAME:
            signature.method_name = CLASSIFY_METHOD_NAME
            changed = True
    if not found:
        available = sorted({k for mg in proto.meta_graphs for k in mg.signature_def})
        raise ValueError(f"no signature {signature_name!r} in {saved_model_dir} "
                         f"(signatures: {', '.join(available) or 'none'})")
    if changed:
        path = _saved_model_pb_path(saved_model_dir)
        tmp = path + ".tmp-mark-classify"
        with gfile.GFile(tmp, "wb") as f:
            f.write(proto.SerializeToString())
        gfile.rename(tmp, path, overwrite=True)
        refresh_fingerprint(saved_model_dir)
    return changed


def refresh_fingerprint(saved_model_dir: str) -> None:
    """Recomputes fingerprint.pb from the current saved_model.pb (only where TF wrote one)."""
    if not _gfile().exists(os.path.join(saved_model_dir, FINGERPRINT_FILE)):
        return
    # TF's own writer (tf.saved_model.save calls it); there is no public API for a rewrite.
    from tensorflow.python.saved_model import fingerprinting_utils

    fingerprinting_utils.write_fingerprint(saved_model_dir)
