"""TF Serving's REST JSON <-> tensors (tensorflow_serving/util/json_tensor.cc): request
bodies to input arrays and tf.Examples, outputs and metadata back to JSON."""

from __future__ import annotations

import base64
import json
from typing import Dict

import numpy as np

import tensorflow as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402

from serving import tensors  # noqa: E402
from serving.errors import invalid_argument  # noqa: E402


def _is_b64(value) -> bool:
    return isinstance(value, dict) and set(value) == {"b64"}


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dict):
        return "Object"
    return type(value).__name__


def _strings(value, alias):
    """Nested JSON list of strings / {"b64": ...} -> same nesting of bytes."""
    if isinstance(value, list):
        return [_strings(v, alias) for v in value]
    if _is_b64(value):
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise invalid_argument(f"Unable to base64 decode input {alias}") from None
    if isinstance(value, str):
        return value.encode("utf-8")
    raise invalid_argument(f"JSON Value: {json.dumps(value)} Type: {_json_type(value)} is not of "
                           f"expected type: string")


def _to_array(value, dtype: int, alias: str) -> np.ndarray:
    if dtype == tensors.DT_STRING:
        nested = _strings(value, alias)
        array = np.array(nested, dtype=object)
        if array.dtype != object or (array.ndim and any(
                not isinstance(x, bytes) for x in array.reshape(-1))):
            raise invalid_argument(f"input {alias}: ragged or malformed list of strings")
        return array
    if _contains(value, lambda v: isinstance(v, (str, dict))):
        raise invalid_argument(f"JSON Value for {alias} is not of expected type: "
                               f"{tensors.dtype_name(dtype)}")
    try:
        return np.asarray(value, dtype=tensors.numpy_dtype(dtype))
    except (ValueError, TypeError) as e:
        raise invalid_argument(f"input {alias}: {e}") from None


def _contains(value, predicate) -> bool:
    if isinstance(value, list):
        return any(_contains(v, predicate) for v in value)
    return predicate(value)


def _to_json(value, alias: str):
    """Output array -> JSON value; bytes as UTF-8 text, or {"b64"} if alias ends in _bytes."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return [_to_json(v, alias) for v in value] if value.ndim else _to_json(value.item(), alias)
        return value.tolist()
    if isinstance(value, bytes):
        if alias.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode("ascii")}
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def rows_to_inputs(instances, signature_def) -> Dict[str, np.ndarray]:
    aliases = sorted(signature_def.inputs)
    if not isinstance(instances, list) or not instances:
        raise invalid_argument("'instances' must be a non-empty JSON list")
    named = all(isinstance(r, dict) and not _is_b64(r) for r in instances)
    if not named:
        if len(aliases) != 1:
            raise invalid_argument(f"Expecting object with named inputs for signature with "
                                   f"{len(aliases)} inputs {{{','.join(aliases)}}}")
        alias = aliases[0]
        return {alias: _to_array(instances, signature_def.inputs[alias].dtype, alias)}
    keys = set(instances[0])
    if any(set(r) != keys for r in instances):
        raise invalid_argument("Expecting all instances to have the same named inputs")
    result = {}
    for k in keys:  # an unknown alias is passed on so predict() reports it like TF Serving
        column = [r[k] for r in instances]
        result[k] = (_to_array(column, signature_def.inputs[k].dtype, k)
                     if k in signature_def.inputs else np.zeros(0))
    return result


def columns_to_inputs(inputs, signature_def) -> Dict[str, np.ndarray]:
    aliases = sorted(signature_def.inputs)
    if isinstance(inputs, dict) and not _is_b64(inputs):
        return {k: (_to_array(v, signature_def.inputs[k].dtype, k) if k in signature_def.inputs
                    else np.zeros(0)) for k, v in inputs.items()}
    if len(aliases) != 1:
        raise invalid_argument(f"Expecting object with named inputs for signature with "
                               f"{len(aliases)} inputs {{{','.join(aliases)}}}")
    return {aliases[0]: _to_array(inputs, signature_def.inputs[aliases[0]].dtype, aliases[0])}


def _feature(value, key: str):
    """A JSON example feature (TF Serving's rules) -> tf.train.Feature."""
    values = value if isinstance(value, list) else [value]
    if not values:
        return tf.train.Feature()
    if all(isinstance(v, str) or _is_b64(v) for v in values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=_strings(values, key)))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    raise invalid_argument(f"Unsupported or mixed-type value for feature {key}")


def example(features, context) -> bytes:
    if not isinstance(features, dict):
        raise invalid_argument("'examples' must be a list of JSON objects")
    example = tf.train.Example()
    for source in (context or {}, features):
        for key, value in source.items():
            example.features.feature[key].CopyFrom(_feature(value, key))
    return example.SerializeToString()


def predict_response(outputs: Dict[str, np.ndarray], columnar: bool) -> dict:
    """{"outputs": ...} for a columnar ("inputs") request, else {"predictions": [...]} rows."""
    if columnar:
        if len(outputs) == 1:
            (alias, value), = outputs.items()
            return {"outputs": _to_json(value, alias)}
        return {"outputs": {alias: _to_json(v, alias) for alias, v in outputs.items()}}
    sizes = {alias: (v.shape[0] if v.ndim else None) for alias, v in outputs.items()}
    batch = next(iter(sizes.values()), 0)
    for alias, size in sizes.items():
        if size != batch:
            raise invalid_argument(f"Tensor name: {alias} has inconsistent batch size: {size} "
                                   f"expecting: {batch}")
    if len(outputs) == 1:
        (alias, value), = outputs.items()
        return {"predictions": [_to_json(row, alias) for row in value]}
    return {"predictions": [{alias: _to_json(v[i], alias) for alias, v in outputs.items()}
                            for i in range(batch or 0)]}


def classify_response(classes, scores) -> dict:
    """{"results": [[[label, score], ...], ...]} as TF Serving's MakeJsonFromClassificationResult."""
    rows, width = (classes if classes is not None else scores).shape
    return {"results": [[[classes[i, j].decode("utf-8", "replace") if classes is not None else "",
                          float(scores[i, j]) if scores is not None else 0.0] for j in range(width)]
                        for i in range(rows)]}


def metadata_response(servable, signature_map) -> dict:
    """GET .../metadata. TF Serving prints it with always_print_primitive_fields and
    preserve_proto_field_names (http_rest_api_handler.cc ProcessModelMetadataRequest), so
    default-valued fields (e.g. "defaults": {}, "unknown_rank": false) appear too."""
    def as_dict(message):
        return json_format.MessageToDict(message, including_default_value_fields=True,
                                         preserving_proto_field_name=True)

    return {"model_spec": {"name": servable.name, "signature_name": "", "version": str(servable.version)},
            "metadata": {"signature_def": as_dict(signature_map)}}
