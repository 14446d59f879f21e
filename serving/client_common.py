"""What the gRPC and REST clients share: results, retries, image sniffing (no TF)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

import numpy as np

import contract

# The pushed model's contract (contract/__init__.py, built by trainer/export.py).
DEFAULT_MODEL = "snout"
PREDICT_SIGNATURE = contract.SIGNATURE_IMAGE_BYTES
TF_EXAMPLE_SIGNATURE = contract.SIGNATURE_TF_EXAMPLE
CLASSIFY_SIGNATURE = contract.SIGNATURE_CLASSIFY
IMAGE_FEATURE = contract.IMAGE_KEY
# signature -> (input alias, whether the input is a serialized tf.Example)
SIGNATURE_INPUTS = {
    PREDICT_SIGNATURE: (contract.SERVING_IMAGE_INPUT, False),
    TF_EXAMPLE_SIGNATURE: (contract.SERVING_EXAMPLES_INPUT, True),
    CLASSIFY_SIGNATURE: (contract.CLASSIFY_INPUT, True),
}

T = TypeVar("T")


@dataclass
class PredictResult:
    version: Optional[int]                 # None when the API does not say (REST)
    outputs: Dict[str, np.ndarray]         # strings decoded to str


@dataclass
class ClassifyResult:
    version: Optional[int]
    rows: List[List[Tuple[str, float]]]    # per example: (label, score) for every class


@dataclass
class ModelInfo:
    versions: List[Tuple[int, str]] = field(default_factory=list)    # (version, state)
    signatures: Dict[str, dict] = field(default_factory=dict)        # name -> {inputs, outputs, method_name}


_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


def image_format(data: bytes) -> Optional[str]:
    """JPEG/PNG/GIF/BMP (what tf.io.decode_image reads) from the magic bytes, else None."""
    for magic, name in _IMAGE_MAGIC:
        if data.startswith(magic):
            return name
    return None


def with_retries(call: Callable[[], T], retryable: Callable[[Exception], bool], retries: int,
                 backoff_seconds: float = 0.25, sleep=time.sleep) -> T:
    """call(); on a retryable exception retry up to `retries` times with exponential
    backoff (backoff, 2*backoff, ...); the last exception propagates."""
    attempt = 0
    while True:
        try:
            return call()
        except Exception as e:
            if attempt >= retries or not retryable(e):
                raise
            sleep(backoff_seconds * (2 ** attempt))
            attempt += 1


def serialized_image_example(image: bytes, example_class) -> bytes:
    example = example_class()
    example.features.feature[IMAGE_FEATURE].bytes_list.value.append(image)
    return example.SerializeToString()


def decode_strings(array: np.ndarray) -> np.ndarray:
    if array.dtype != object:
        return array
    out = np.empty(array.shape, dtype=object)
    flat_in, flat_out = array.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return out
