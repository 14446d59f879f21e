"""Predict / Classify / metadata logic shared by the gRPC and REST servers.

Error statuses and messages follow TF Serving's (predict_util.cc, classifier.cc,
get_model_metadata_impl.cc) so clients see the same behaviour locally and in prod.
"""

from __future__ import annotations

import ctypes
import re
from typing import Dict, List, NoReturn, Optional, Sequence, Tuple

import numpy as np

import tensorflow as tf  # noqa: E402

import contract  # noqa: E402
from serving import tensors  # noqa: E402
from serving.errors import ServingError, invalid_argument  # noqa: E402
from serving.limits import RequestLimits, check_batch, check_examples, chunks  # noqa: E402
from serving.model_store import LoadedVersion, ModelStore  # noqa: E402
from contract.saved_model import (CLASSIFY_METHOD_NAME, CLASSIFY_OUTPUT_CLASSES,  # noqa: E402
                                     CLASSIFY_OUTPUT_SCORES)

SIGNATURE_DEF_FIELD = "signature_def"


def _set_text(names) -> str:
    return "{" + ",".join(sorted(names)) + "}"


# Status code numbers (shared by TF's error codes and gRPC) -> names.
_STATUS_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                 "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                 "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                 "UNAUTHENTICATED"]


def first_line(message: str) -> str:
    """The meaningful line of an error: TF op errors wrap it in "Graph execution error:",
    "Detected at node ..." and graph traces, which are dropped."""
    lines = [ln.strip() for ln in (message or "").strip().splitlines() if ln.strip()]
    noise = ("Graph execution error", "Detected at node", "<stack traces unavailable>", "[[",
             "File \"", "(most recent call last)")
    useful = [ln for ln in lines if not ln.startswith(noise)]
    line = useful[0] if useful else (lines[0] if lines else "")
    return re.sub(r"\s*\[\[\{\{node .*$", "", line).strip()


def call_function(function, feed: Dict[str, object]) -> Dict[str, tf.Tensor]:
    """Run a signature; TF/Python errors become ServingError (never escape as crashes)."""
    try:
        return function(**feed)
    except tf.errors.OpError as e:
        code = _STATUS_NAMES[e.error_code] if 0 < e.error_code < len(_STATUS_NAMES) else "INTERNAL"
        raise ServingError(code, first_line(e.message)) from None
    except (TypeError, ValueError) as e:  # wrong shape/dtype caught while tracing/binding
        raise invalid_argument(first_line(str(e))) from None


def _check_inputs(model: str, signature_def, inputs: Dict[str, np.ndarray],
                  input_dtypes: Dict[str, int]) -> None:
    """Aliases, dtypes and shapes against the signature, with TF Serving's messages."""
    expected, sent = set(signature_def.inputs), set(inputs)
    unknown = sorted(sent - expected)
    if unknown:
        raise invalid_argument(f"input tensor alias not found in signature: {unknown[0]}. "
                               f"Inputs expected to be in the set {_set_text(expected)}.")
    if sent != expected:
        raise invalid_argument(f"Request inputs do not match required inputs for model `{model}`. "
                               f"Send extra: {_set_text(sent - expected)}. "
                               f"Missing but required: {_set_text(expected - sent)}.")
    for i, alias in enumerate(sorted(expected)):
        want, got = signature_def.inputs[alias].dtype, input_dtypes.get(alias)
        if got is not None and got != want:
            raise invalid_argument(f"Expects arg[{i}] to be {tensors.dtype_name(want)} but "
                                   f"{tensors.dtype_name(got)} is provided")
    for alias, value in inputs.items():
        shape_proto = signature_def.inputs[alias].tensor_shape
        if shape_proto.unknown_rank:
            continue
        want_shape, got_shape = [d.size for d in shape_proto.dim], list(np.shape(value))
        if len(got_shape) != len(want_shape) or any(w >= 0 and w != g for w, g in zip(want_shape, got_shape)):
            raise invalid_argument(f"input {alias}: expected shape {want_shape} (-1 = any), got {got_shape}")


def _check_output_filter(output_filter: Sequence[str], signature_def) -> None:
    """As predict_util.cc PreProcessPrediction: unknown or repeated aliases are refused."""
    seen = set()
    for alias in output_filter:
        if alias not in signature_def.outputs:
            raise invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to "
                f"be in the set {_set_text(signature_def.outputs)}.")
        if alias in seen:
            raise invalid_argument(f"duplicate output tensor alias: {alias}")
        seen.add(alias)


def _batch_major(signature_def) -> bool:
    """Every input and output is [-1, ...]: rows can be split and concatenated."""
    infos = list(signature_def.inputs.values()) + list(signature_def.outputs.values())
    return all(not i.tensor_shape.unknown_rank and i.tensor_shape.dim and i.tensor_shape.dim[0].size == -1
               for i in infos)


def release_free_memory() -> None:
    """glibc keeps freed heap in its arenas, so RSS stays at a burst's peak; malloc_trim
    returns the free pages (no-op where glibc is absent)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class InferenceService:
    def __init__(self, store: ModelStore, limits: RequestLimits = RequestLimits()):
        self.store = store
        self.limits = limits

    @staticmethod
    def signature(servable: LoadedVersion, signature_name: str):
        """FAILED_PRECONDITION for an unknown name, as TF Serving's Predict
        (predict_util.cc RunPredict: errors::FailedPrecondition "Serving signature key ...")."""
        name = signature_name or contract.SIGNATURE_IMAGE_BYTES
        if name not in servable.functions or name not in servable.signature_defs:
            raise ServingError("FAILED_PRECONDITION", f'Serving signature key "{name}" not found.')
        return name, servable.signature_defs[name], servable.functions[name]

    # ---- Predict ----

    def predict(self, servable: LoadedVersion, signature_name: str,
                inputs: Dict[str, np.ndarray], input_dtypes: Optional[Dict[str, int]] = None,
                output_filter: Sequence[str] = ()) -> Tuple[str, Dict[str, np.ndarray]]:
        """inputs: alias -> array. input_dtypes: alias -> DT_* the client declared
        (gRPC TensorProto dtype), checked against the signature like TF Serving."""
        name, signature_def, function = self.signature(servable, signature_name)
        _check_inputs(servable.name, signature_def, inputs, input_dtypes or {})
        _check_output_filter(output_filter, signature_def)
        pixels = check_batch(self.limits, inputs)  # before anything is decoded
        feed = {}
        for alias, value in inputs.items():
            want = signature_def.inputs[alias].dtype
            try:
                feed[alias] = tf.convert_to_tensor(value, dtype=tf.dtypes.as_dtype(want))
            except (TypeError, ValueError) as e:
                raise invalid_argument(f"input {alias}: {first_line(str(e))}") from None
        wanted = list(output_filter) or list(signature_def.outputs)
        return name, self._run_chunked(function, feed, signature_def, pixels, wanted)

    def _run_chunked(self, function, feed, signature_def, pixels, wanted) -> Dict[str, np.ndarray]:
        """Run the signature on bounded chunks of the batch and concatenate the rows, so a
        request's peak memory is one chunk's; then hand freed heap back to the OS.
        A signature whose inputs or outputs are not batch-major [-1, ...] runs whole."""
        parts = list(chunks(self.limits, pixels)) if _batch_major(signature_def) else []
        if len(parts) <= 1:
            outputs = call_function(function, feed)
            result = {alias: outputs[alias].numpy() for alias in wanted if alias in outputs}
            if sum(pixels) > self.limits.chunk_pixels:
                del outputs
                release_free_memory()
            return result
        pieces: Dict[str, list] = {alias: [] for alias in wanted}
        for part in parts:
            outputs = call_function(function, {alias: value[part] for alias, value in feed.items()})
            for alias in wanted:
                if alias in outputs:
                    pieces[alias].append(outputs[alias].numpy())
            del outputs
        result = {alias: np.concatenate(values) for alias, values in pieces.items() if values}
        release_free_memory()
        return result

    @staticmethod
    def method_signature(servable: LoadedVersion, signature_name: str, method_name: str):
        """Classify's and Regress's lookup: an unknown name or another method is INVALID_ARGUMENT,
        as TF Serving's GetClassificationSignatureDef / GetRegressionSignatureDef
        (servables/tensorflow/classifier.cc, regressor.cc), not Predict's FAILED_PRECONDITION."""
        name = signature_name or contract.SIGNATURE_IMAGE_BYTES
        if name not in servable.functions or name not in servable.signature_defs:
            raise invalid_argument(f"No signature was found with the name: {name}")
        signature_def = servable.signature_defs[name]
        if signature_def.method_name != method_name:
            kind = "classification" if method_name == CLASSIFY_METHOD_NAME else "regression"
            raise invalid_argument(f"Expected {kind} signature method_name to be {method_name}. "
                                   f"Was: {signature_def.method_name}")
        return name, signature_def, servable.functions[name]

    # ---- Classify / Regress ----

    def regress(self, servable: LoadedVersion, signature_name: str) -> NoReturn:
        """snout's models have no regression signature, so this always refuses, with TF Serving's answer."""
        self.method_signature(servable, signature_name, contract.REGRESS_METHOD_NAME)
        raise ServingError("UNIMPLEMENTED", "Regress is not supported by snout serve")

    def classify(self, servable: LoadedVersion, signature_name: str,
                 serialized_examples: List[bytes]):
        """-> (signature name, classes [N,C] bytes or None, scores [N,C] float or None).
        Checks in the order of classifier.cc (signature, PreProcessClassification, then the input)."""
        name, signature_def, function = self.method_signature(servable, signature_name, CLASSIFY_METHOD_NAME)
        if len(signature_def.inputs) != 1:
            raise invalid_argument("Expected one input Tensor.")
        if not set(signature_def.outputs) & {CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES}:
            raise invalid_argument("Expected classification signature outputs to contain at least one of "
                                   f'"{CLASSIFY_OUTPUT_CLASSES}" or "{CLASSIFY_OUTPUT_SCORES}".')
        if not serialized_examples:
            raise invalid_argument("Input is empty.")
        alias = next(iter(signature_def.inputs))
        pixels = check_examples(self.limits, serialized_examples)
        outputs = self._run_chunked(function, {alias: tf.constant(serialized_examples, dtype=tf.string)},
                                    signature_def, pixels, [CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES])
        classes = outputs.get(CLASSIFY_OUTPUT_CLASSES)
        scores = outputs.get(CLASSIFY_OUTPUT_SCORES)
        n = len(serialized_examples)
        for label, value in (("classes", classes), ("scores", scores)):
            if value is not None and (value.ndim != 2 or value.shape[0] != n):
                raise invalid_argument(f"Expected {label} output shape [{n}, C], got {list(value.shape)}")
        return name, classes, scores

    # ---- metadata ----

    @staticmethod
    def signature_def_map(servable: LoadedVersion, metadata_fields: Sequence[str]):
        from tensorflow_serving.apis import get_model_metadata_pb2

        if not metadata_fields:
            raise invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
        for metadata_field in metadata_fields:
            if metadata_field != SIGNATURE_DEF_FIELD:
                raise invalid_argument(f"Metadata field {metadata_field} is not supported")
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature_def in servable.signature_defs.items():
            signature_map.signature_def[key].CopyFrom(signature_def)
        return signature_map
