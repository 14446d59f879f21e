"""TensorProto <-> numpy without TensorFlow: read by the clients and the servers,
written by the servers as TF Serving writes Predict outputs (repeated *_val fields)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

# tensorflow/core/framework/types.proto
DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_STRING = 1, 2, 3, 4, 5, 6, 7
DT_INT64, DT_BOOL, DT_UINT16, DT_HALF, DT_UINT32, DT_UINT64 = 9, 10, 17, 19, 22, 23

# dtype -> (TF name, numpy dtype, repeated *_val field holding it when tensor_content is empty)
_DTYPES = {
    DT_FLOAT: ("float", np.float32, "float_val"),
    DT_DOUBLE: ("double", np.float64, "double_val"),
    DT_INT32: ("int32", np.int32, "int_val"),
    DT_UINT8: ("uint8", np.uint8, "int_val"),
    DT_INT16: ("int16", np.int16, "int_val"),
    DT_INT8: ("int8", np.int8, "int_val"),
    DT_STRING: ("string", object, "string_val"),
    DT_INT64: ("int64", np.int64, "int64_val"),
    DT_BOOL: ("bool", np.bool_, "bool_val"),
    DT_UINT16: ("uint16", np.uint16, "int_val"),
    DT_HALF: ("half", np.float16, "half_val"),
    DT_UINT32: ("uint32", np.uint32, "uint32_val"),
    DT_UINT64: ("uint64", np.uint64, "uint64_val"),
}
DTYPE_NAMES = {dtype: name for dtype, (name, _, _) in _DTYPES.items()}
# Numeric dtypes only: strings are decoded from string_val separately.
_NUMPY = {dtype: (np_dtype, field) for dtype, (_, np_dtype, field) in _DTYPES.items() if dtype != DT_STRING}


def dtype_name(dtype: int) -> str:
    return DTYPE_NAMES.get(dtype, f"dtype({dtype})")


def numpy_dtype(dtype: int):
    """numpy dtype for a TF dtype enum (object for strings)."""
    if dtype == DT_STRING:
        return object
    if dtype not in _NUMPY:
        raise ValueError(f"unsupported tensor dtype {dtype_name(dtype)}")
    return _NUMPY[dtype][0]


def fill_string_tensor(proto, values: Sequence[bytes]):
    """Fill a TensorProto message in place as a 1-D DT_STRING tensor; returns it."""
    proto.dtype = DT_STRING
    proto.tensor_shape.dim.add().size = len(values)
    proto.string_val.extend(values)
    return proto


def to_numpy(proto) -> np.ndarray:
    """A TensorProto message (of any protobuf pool) as a numpy array, like tf.make_ndarray."""
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    size = int(np.prod(shape)) if shape else 1
    if proto.dtype == DT_STRING:
        values = list(proto.string_val)
        array = np.empty(len(values), dtype=object)
        array[:] = values
    else:
        np_dtype, field = _NUMPY.get(proto.dtype, (None, None))
        if np_dtype is None:
            raise ValueError(f"unsupported tensor dtype {dtype_name(proto.dtype)}")
        if proto.tensor_content:
            return np.frombuffer(proto.tensor_content, dtype=np_dtype).copy().reshape(shape)
        raw = getattr(proto, field)
        if proto.dtype == DT_HALF:
            array = np.array(raw, dtype=np.uint16).view(np.float16)
        else:
            array = np.array(raw, dtype=np_dtype)
    if array.size == size:
        return array.reshape(shape)
    if array.size == 0:
        return np.zeros(shape, dtype=array.dtype) if proto.dtype != DT_STRING else \
            np.full(shape, b"", dtype=object)
    if array.size > size:
        raise ValueError(f"tensor has {array.size} values for shape {list(shape)}")
    # TF semantics: the last value repeats to fill the shape.
    padded = np.concatenate([array, np.repeat(array[-1:], size - array.size)])
    return padded.reshape(shape)


def fill_proto_fields(proto, array: np.ndarray):
    """Fill a TensorProto from an array in its repeated *_val field, not tensor_content.

    TF Serving's Predict answers with Tensor::AsProtoField by default
    (predict_util.cc, PredictResponseTensorSerializationOption::kAsProtoField), so
    clients that read `.float_val` / `.int64_val` / `.string_val` see the values."""
    dtype = _dtype_enum(array)
    proto.dtype = dtype
    for size in array.shape:
        proto.tensor_shape.dim.add().size = int(size)
    flat = array.reshape(-1)
    field = _DTYPES[dtype][2]
    if dtype == DT_HALF:  # half_val holds the raw 16-bit patterns
        getattr(proto, field).extend(flat.view(np.uint16).tolist())
    elif dtype == DT_STRING:
        getattr(proto, field).extend(v if isinstance(v, bytes) else str(v).encode("utf-8") for v in flat)
    else:
        getattr(proto, field).extend(flat.tolist())
    return proto


def _dtype_enum(array: np.ndarray) -> int:
    if array.dtype == object or array.dtype.kind in "SU":
        return DT_STRING
    for dtype, (_, np_dtype, _) in _DTYPES.items():
        if dtype != DT_STRING and array.dtype == np.dtype(np_dtype):
            return dtype
    raise ValueError(f"unsupported output dtype {array.dtype}")
