"""TF Serving REST client (/v1/models/...): predict, classify, status, metadata (no TF)."""

from __future__ import annotations

import base64
import re
from typing import List, Optional

import numpy as np
import requests

import contract
from serving.client_common import (SIGNATURE_INPUTS, ClassifyResult, ModelInfo, PredictResult,
                                   serialized_image_example, with_retries)
from serving.errors import ServerUnreachable, ServingError

_HTTP_CODES = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ABORTED", 413: "RESOURCE_EXHAUSTED",
               429: "RESOURCE_EXHAUSTED",
               499: "CANCELLED", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class _RetryableHTTP(Exception):
    def __init__(self, response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


class RestClient:
    def __init__(self, base_url: str, timeout: float = 10.0, retries: int = 2,
                 backoff_seconds: float = 0.25):
        if "://" not in base_url:
            base_url = "http://" + base_url
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- plumbing ----

    @staticmethod
    def _path(model: str, version: Optional[int]) -> str:
        return f"/v1/models/{model}" + (f"/versions/{int(version)}" if version is not None else "")

    def _request(self, method: str, path: str, body: Optional[dict] = None) -> dict:
        url = self.base_url + path

        def once():
            response = self.session.request(method, url, json=body, timeout=self.timeout)
            if response.status_code >= 500 and response.status_code != 501:
                raise _RetryableHTTP(response)
            return response

        def retryable(e):
            return isinstance(e, (requests.ConnectionError, requests.Timeout, _RetryableHTTP))

        try:
            response = with_retries(once, retryable, self.retries, self.backoff_seconds)
        except requests.Timeout:
            raise ServerUnreachable("DEADLINE_EXCEEDED", f"TF Serving at {self.base_url} did not "
                                    f"answer within {self.timeout:g}s") from None
        except requests.ConnectionError as e:
            reason = str(e.args[0] if e.args else e)
            errno = re.search(r"\[Errno -?\d+\][^'\")]*", reason)
            reason = errno.group(0).strip() if errno else reason
            raise ServerUnreachable("UNAVAILABLE", f"cannot reach TF Serving at {self.base_url}: "
                                                   f"{reason}") from None
        except _RetryableHTTP as e:
            response = e.response
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": response.text.strip()[:500] or f"HTTP {response.status_code}"}
        if response.status_code != 200:
            message = payload.get("error") if isinstance(payload, dict) else None
            code = _HTTP_CODES.get(response.status_code,
                                   "INTERNAL" if response.status_code >= 500 else "UNKNOWN")
            raise ServingError(code, message or f"HTTP {response.status_code}")
        return payload

    # ---- API ----

    def predict(self, images: List[bytes], model: str, version: Optional[int] = None,
                signature: str = contract.SIGNATURE_IMAGE_BYTES, input_key: Optional[str] = None,
                as_examples: Optional[bool] = None) -> PredictResult:
        default_key, default_examples = SIGNATURE_INPUTS.get(signature, (None, False))
        if as_examples if as_examples is not None else default_examples:
            from serving import protos

            example_class = protos.messages().Example
            images = [serialized_image_example(i, example_class) for i in images]
        instances = [_b64(i) if input_key is None else {input_key: _b64(i)} for i in images]
        body = {"signature_name": signature, "instances": instances}
        payload = self._request("POST", self._path(model, version) + ":predict", body)
        predictions = payload.get("predictions", [])
        if predictions and isinstance(predictions[0], dict):
            names = predictions[0].keys()
            outputs = {n: np.array([row[n] for row in predictions]) for n in names}
        else:
            outputs = {"output": np.array(predictions)}
        outputs = {n: (v.astype(object) if v.dtype.kind == "U" else v) for n, v in outputs.items()}
        return PredictResult(version, outputs)

    def classify(self, images: List[bytes], model: str, version: Optional[int] = None,
                 signature: str = contract.SIGNATURE_CLASSIFY) -> ClassifyResult:
        body = {"signature_name": signature,
                "examples": [{contract.IMAGE_KEY: _b64(i)} for i in images]}
        payload = self._request("POST", self._path(model, version) + ":classify", body)
        rows = [[(str(label), float(score)) for label, score in row] for row in payload.get("results", [])]
        return ClassifyResult(version, rows)

    def model_info(self, model: str, version: Optional[int] = None,
                   with_signatures: bool = True) -> ModelInfo:
        info = ModelInfo()
        status = self._request("GET", self._path(model, version))
        for entry in status.get("model_version_status", []):
            info.versions.append((int(entry["version"]), entry.get("state", "UNKNOWN")))
        if with_signatures:
            metadata = self._request("GET", self._path(model, version) + "/metadata")
            signature_map = metadata.get("metadata", {}).get("signature_def", {}).get("signature_def", {})
            for name, sig in signature_map.items():
                info.signatures[name] = {
                    "method_name": sig.get("method_name", ""),
                    "inputs": {k: _dtype(v) for k, v in sig.get("inputs", {}).items()},
                    "outputs": {k: _dtype(v) for k, v in sig.get("outputs", {}).items()},
                }
        return info


def _dtype(tensor_info: dict) -> str:
    dtype = str(tensor_info.get("dtype", ""))
    return dtype[3:].lower() if dtype.startswith("DT_") else dtype
