"""What the gRPC and REST clients share: results, retries, tf.Example wrapping (no TF).

Signature, input and feature names are contract's (contract/__init__.py, built by
trainer/export.py); image sniffing is contract.image_format.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

import numpy as np

import contract

DEFAULT_MODEL = "snout"
# signature -> (input alias, whether the input is a serialized tf.Example)
SIGNATURE_INPUTS = {
    contract.SIGNATURE_IMAGE_BYTES: (contract.SERVING_IMAGE_INPUT, False),
    contract.SIGNATURE_TF_EXAMPLE: (contract.SERVING_EXAMPLES_INPUT, True),
    contract.SIGNATURE_CLASSIFY: (contract.CLASSIFY_INPUT, True),
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
    example.features.feature[contract.IMAGE_KEY].bytes_list.value.append(image)
    return example.SerializeToString()


def decode_strings(array: np.ndarray) -> np.ndarray:
    if array.dtype != object:
        return array
    out = np.empty(array.shape, dtype=object)
    flat_in, flat_out = array.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return out
