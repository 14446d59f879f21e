"""TF Serving API message classes for the clients, without importing TensorFlow.

`tensorflow_serving.apis.*_pb2` import `tensorflow.core.framework.tensor_pb2`, and
importing anything under the `tensorflow` package runs `tensorflow/__init__.py`,
which loads all of TensorFlow (~3 s). The clients only need the messages, so this
module reads the serialized FileDescriptorProtos that the generated `*_pb2.py` files
embed (without executing them), adds them to a private DescriptorPool and builds
the message classes from it. The classes have the real full names, so they are
wire-compatible with TF Serving.

If anything about that fails (an unexpected generated-code layout), or
SNOUT_CLIENT_PROTOS=tensorflow is set, it falls back to importing the real
modules (slower start, same behaviour). `MESSAGES.lightweight` says which is used.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
import threading
from types import SimpleNamespace

_MESSAGES = {
    "PredictRequest": "tensorflow.serving.PredictRequest",
    "PredictResponse": "tensorflow.serving.PredictResponse",
    "ClassificationRequest": "tensorflow.serving.ClassificationRequest",
    "ClassificationResponse": "tensorflow.serving.ClassificationResponse",
    "GetModelMetadataRequest": "tensorflow.serving.GetModelMetadataRequest",
    "GetModelMetadataResponse": "tensorflow.serving.GetModelMetadataResponse",
    "SignatureDefMap": "tensorflow.serving.SignatureDefMap",
    "GetModelStatusRequest": "tensorflow.serving.GetModelStatusRequest",
    "GetModelStatusResponse": "tensorflow.serving.GetModelStatusResponse",
    "ModelSpec": "tensorflow.serving.ModelSpec",
    "TensorProto": "tensorflow.TensorProto",
    "Example": "tensorflow.Example",
}
# The .proto files that define the messages above; their imports are followed.
_ROOT_FILES = [
    "tensorflow_serving/apis/predict.proto",
    "tensorflow_serving/apis/classification.proto",
    "tensorflow_serving/apis/get_model_metadata.proto",
    "tensorflow_serving/apis/get_model_status.proto",
]
# Real modules used by the fallback (importing them imports TensorFlow).
_REAL_MODULES = {
    "PredictRequest": "tensorflow_serving.apis.predict_pb2",
    "PredictResponse": "tensorflow_serving.apis.predict_pb2",
    "ClassificationRequest": "tensorflow_serving.apis.classification_pb2",
    "ClassificationResponse": "tensorflow_serving.apis.classification_pb2",
    "GetModelMetadataRequest": "tensorflow_serving.apis.get_model_metadata_pb2",
    "GetModelMetadataResponse": "tensorflow_serving.apis.get_model_metadata_pb2",
    "SignatureDefMap": "tensorflow_serving.apis.get_model_metadata_pb2",
    "GetModelStatusRequest": "tensorflow_serving.apis.get_model_status_pb2",
    "GetModelStatusResponse": "tensorflow_serving.apis.get_model_status_pb2",
    "ModelSpec": "tensorflow_serving.apis.model_pb2",
    "TensorProto": "tensorflow.core.framework.tensor_pb2",
    "Example": "tensorflow.core.example.example_pb2",
}

_lock = threading.Lock()
_cached = None


def _search_roots():
    roots = []
    for top in ("tensorflow", "tensorflow_serving"):
        spec = importlib.util.find_spec(top)  # top-level find_spec does not execute it
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            roots.append(os.path.dirname(os.path.abspath(location)))
    roots.extend(p for p in sys.path if p and os.path.isdir(p))
    seen, unique = set(), []
    for r in roots:
        if r not in seen:
            seen.add(r)
            unique.append(r)
    return unique


def _serialized_descriptor(proto_file: str, roots) -> bytes:
    """The FileDescriptorProto bytes embedded in the generated module of `proto_file`."""
    if proto_file.startswith("google/protobuf/"):
        module = importlib.import_module(
            proto_file[:-len(".proto")].replace("/", ".") + "_pb2")
        return module.DESCRIPTOR.serialized_pb
    relative = proto_file[:-len(".proto")] + "_pb2.py"
    # TensorFlow vendors some protos (tsl/..., xla/...) under the tensorflow package.
    candidates = [os.path.join(root, prefix, relative)
                  for root in roots for prefix in ("", "tensorflow")]
    for path in candidates:
        if os.path.isfile(path):
            with open(path, "r", encoding="utf-8") as f:
                tree = ast.parse(f.read(), filename=path)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "AddSerializedFile" and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, bytes)):
                    return node.args[0].value
            raise LookupError(f"no serialized descriptor in {path}")
    raise LookupError(f"generated module for {proto_file} not found")


def _message_class(pool, full_name):
    from google.protobuf import message_factory

    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def _load_lightweight() -> SimpleNamespace:
    from google.protobuf import descriptor_pb2, descriptor_pool

    roots = _search_roots()
    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(proto_file):
        if proto_file in added:
            return
        serialized = _serialized_descriptor(proto_file, roots)
        file_proto = descriptor_pb2.FileDescriptorProto.FromString(serialized)
        for dependency in file_proto.dependency:
            add(dependency)
        pool.AddSerializedFile(serialized)
        added.add(proto_file)

    for root_file in _ROOT_FILES:
        add(root_file)
    classes = {name: _message_class(pool, full) for name, full in _MESSAGES.items()}
    return SimpleNamespace(lightweight=True, **classes)


def _load_real() -> SimpleNamespace:
    classes = {name: getattr(importlib.import_module(module), name)
               for name, module in _REAL_MODULES.items()}
    return SimpleNamespace(lightweight=False, **classes)


def messages() -> SimpleNamespace:
    """The message classes (built once per process)."""
    global _cached
    with _lock:
        if _cached is None:
            if os.environ.get("SNOUT_CLIENT_PROTOS") == "tensorflow":
                _cached = _load_real()
            else:
                try:
                    _cached = _load_lightweight()
                except Exception:  # unexpected generated-code layout: use the real modules
                    _cached = _load_real()
        return _cached
