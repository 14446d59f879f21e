"""TF Serving's REST API (/v1/models/...) over a ModelStore: routes a method, path and body
to an answer (status, JSON body), with no HTTP transport (that is serving/rest_server.py).

Routes (as TF Serving's http_rest_api_handler.cc):
  GET  /v1/models/{m}[/versions/{v}|/labels/{l}]            model status
  GET  /v1/models/{m}[/versions/{v}|/labels/{l}]/metadata   signature_def metadata
  POST /v1/models/{m}[/versions/{v}|/labels/{l}]:predict    {"instances": [...]} | {"inputs": ...}
  POST /v1/models/{m}[/versions/{v}|/labels/{l}]:classify   {"examples": [...], "context": {...}}
Any other /v1/ path or method is "Malformed request: <METHOD> <path>", INVALID_ARGUMENT (400),
as ProcessRequest answers; paths outside /v1/ are 404 (its HTTP server only dispatches /v1/.*).
Errors: {"error": "..."} with the HTTP status TF Serving maps the gRPC code to.
"""

from __future__ import annotations

import json
import re
from typing import Optional, Tuple

import contract
from serving import rest_json
from serving.errors import ServingError, invalid_argument, not_found
from serving.inference import InferenceService
from serving.limits import check_rows

_MODEL_PATH = r"/v1/models/(?P<model>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
_STATUS_OR_METADATA = re.compile(r"(?i)^" + _MODEL_PATH + r"(?P<metadata>/metadata)?/?$")
_INFERENCE = re.compile(r"(?i)^" + _MODEL_PATH + r":(?P<method>predict|classify|regress)$")
_API_PREFIX = re.compile(r"(?i)^/v1/")


class RestApi:
    def __init__(self, inference: InferenceService):
        self.inference = inference
        self.store = inference.store

    def handle(self, method: str, path: str, body: Optional[bytes]) -> Tuple[int, dict]:
        try:
            return self._route(method, path, body)
        except RecursionError:  # JSON nested deeper than the parser or converters can follow
            raise invalid_argument("JSON Parse error: the request is nested too deeply") from None

    def _route(self, method: str, path: str, body: Optional[bytes]) -> Tuple[int, dict]:
        match = _INFERENCE.match(path)
        if match and method == "POST":
            request = self._json(body)
            servable = self._resolve(match)
            kind = match["method"].lower()
            if kind == "predict":
                return 200, self._predict(servable, request)
            if kind == "classify":
                return 200, self._classify(servable, request)
            self.inference.regress(servable, request.get("signature_name") or "")
        match = _STATUS_OR_METADATA.match(path)
        if match and method == "GET":
            if match["metadata"]:
                servable = self._resolve(match)
                signature_map = self.inference.signature_def_map(servable, ["signature_def"])
                return 200, rest_json.metadata_response(servable, signature_map)
            return 200, self._status(match)
        if not _API_PREFIX.match(path):
            raise not_found(f"Not found: {path}")
        raise invalid_argument(f"Malformed request: {method} {path}")

    def _resolve(self, match):
        version = int(match["version"]) if match["version"] else None
        return self.store.resolve(match["model"], version, match["label"])

    def _status(self, match) -> dict:
        """/labels/{l} answers every version: TF Serving's status ignores the label (ModelStore.status)."""
        version = int(match["version"]) if match["version"] else None
        statuses = self.store.status(match["model"], version)
        return {"model_version_status": [
            {"version": str(s.version), "state": s.state,
             "status": {"error_code": s.error_code, "error_message": s.error_message}}
            for s in statuses]}

    @staticmethod
    def _json(body: Optional[bytes]) -> dict:
        try:
            request = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid_argument(f"JSON Parse error: {e}") from None
        if not isinstance(request, dict):
            raise invalid_argument("JSON Parse error: request body must be a JSON object")
        return request

    def _predict(self, servable, request: dict) -> dict:
        signature_name = request.get("signature_name") or ""
        if not isinstance(signature_name, str):
            raise invalid_argument("'signature_name' key must be a string value.")
        signature_def = self._signature_def(servable, signature_name)
        has_rows, has_columns = "instances" in request, "inputs" in request
        if has_rows and has_columns:
            raise invalid_argument("Not both 'instances' and 'inputs' can be specified.")
        if not has_rows and not has_columns:
            raise invalid_argument("Missing 'inputs' or 'instances' key")
        if has_rows:
            if isinstance(request["instances"], list):  # before converting them
                check_rows(self.inference.limits, len(request["instances"]))
            inputs = rest_json.rows_to_inputs(request["instances"], signature_def)
        else:
            inputs = rest_json.columns_to_inputs(request["inputs"], signature_def)
        output_filter = request.get("output_filter") or []
        if not isinstance(output_filter, list) or not all(isinstance(a, str) for a in output_filter):
            raise invalid_argument("'output_filter' must be a list of output names")
        _, outputs = self.inference.predict(servable, signature_name, inputs, None, output_filter)
        return rest_json.predict_response(outputs, columnar=has_columns)

    def _signature_def(self, servable, signature_name: str):
        """REST reads the signature before building the request (GetInfoMap), so an unknown
        name is INVALID_ARGUMENT there, with that message; gRPC answers FAILED_PRECONDITION."""
        try:
            return self.inference.signature(servable, signature_name)[1]
        except ServingError as e:
            if e.code != "FAILED_PRECONDITION":
                raise
            name = signature_name or contract.SIGNATURE_IMAGE_BYTES
            raise invalid_argument(f'Serving signature name: "{name}" not found in signature def') from None

    def _classify(self, servable, request: dict) -> dict:
        examples = request.get("examples")
        if not isinstance(examples, list):
            raise invalid_argument("Missing or invalid 'examples' key (a list of JSON objects)")
        context = request.get("context")
        if context is not None and not isinstance(context, dict):
            raise invalid_argument("'context' must be a JSON object")
        check_rows(self.inference.limits, len(examples))  # before building the examples
        serialized = [rest_json.example(e, context) for e in examples]
        _, classes, scores = self.inference.classify(servable, request.get("signature_name") or "",
                                                     serialized)
        return rest_json.classify_response(classes, scores)
