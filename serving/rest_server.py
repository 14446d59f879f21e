"""TF Serving's REST API (/v1/models/...) over a ModelStore, on http.server.

Routes (as TF Serving's http_rest_api_handler.cc):
  GET  /v1/models/{m}[/versions/{v}|/labels/{l}]            model status
  GET  /v1/models/{m}[/versions/{v}|/labels/{l}]/metadata   signature_def metadata
  POST /v1/models/{m}[/versions/{v}|/labels/{l}]:predict    {"instances": [...]} | {"inputs": ...}
  POST /v1/models/{m}[/versions/{v}|/labels/{l}]:classify   {"examples": [...], "context": {...}}
Errors: {"error": "..."} with the HTTP status TF Serving maps the gRPC code to.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional

import numpy as np

import tensorflow as tf  # noqa: E402

from serving import tensors  # noqa: E402
from serving.errors import ServingError, invalid_argument  # noqa: E402
from serving.inference import InferenceService, first_line  # noqa: E402
from serving.model_store import ModelStore  # noqa: E402

_MODEL_PATH = r"/v1/models/(?P<model>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
_STATUS_OR_METADATA = re.compile(r"(?i)^" + _MODEL_PATH + r"(?P<metadata>/metadata)?/?$")
_INFERENCE = re.compile(r"(?i)^" + _MODEL_PATH + r":(?P<method>predict|classify|regress)$")
MAX_BODY_BYTES = 1 << 30


# ---- JSON <-> arrays ----

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


def _rows_to_inputs(instances, signature_def) -> Dict[str, np.ndarray]:
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


def _columns_to_inputs(inputs, signature_def) -> Dict[str, np.ndarray]:
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


def _example(features, context) -> bytes:
    if not isinstance(features, dict):
        raise invalid_argument("'examples' must be a list of JSON objects")
    example = tf.train.Example()
    for source in (context or {}, features):
        for key, value in source.items():
            example.features.feature[key].CopyFrom(_feature(value, key))
    return example.SerializeToString()


# ---- HTTP ----

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snout-serve"
    rest: "RestServer"  # set on the subclass

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # quiet; errors are logged via rest.log
        pass

    def _send(self, status: int, body: dict) -> None:
        payload = json.dumps(body, indent=None, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        # Headers and body in one write: two small writes on a keep-alive connection
        # hit Nagle + delayed ACK (~40 ms per response).
        self._headers_buffer.append(b"\r\n" + payload)
        self.flush_headers()

    def _dispatch(self, method: str) -> None:
        try:
            status, body = self.rest.handle(method, self.path.split("?", 1)[0], self._body(method))
        except ServingError as e:
            status, body = e.http_status, {"error": e.message}
        except Exception as e:  # never crash on a request
            self.rest.log(f"REST {method} {self.path}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            status, body = 500, {"error": f"{type(e).__name__}: {first_line(str(e))}"}
        try:
            self._send(status, body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _body(self, method: str) -> Optional[bytes]:
        if method != "POST":
            return None
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ServingError("RESOURCE_EXHAUSTED", f"Request body of {length} bytes is too large")
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")


class RestServer:
    def __init__(self, store: ModelStore, host: str = "127.0.0.1", port: int = 8501, log=None):
        self.store = store
        self.inference = InferenceService(store)
        self.log = log or (lambda msg: None)
        handler = type("SnoutRestHandler", (_Handler,), {"rest": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "RestServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="snout-rest", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # ---- routing ----

    def handle(self, method: str, path: str, body: Optional[bytes]):
        match = _INFERENCE.match(path)
        if match and method == "POST":
            request = self._json(body)
            servable = self._resolve(match)
            if match["method"].lower() == "predict":
                return 200, self._predict(servable, request)
            if match["method"].lower() == "classify":
                return 200, self._classify(servable, request)
            name, signature_def, _ = self.inference.signature(servable, request.get("signature_name", ""))
            raise invalid_argument("Expected regression signature method_name to be "
                                   f"tensorflow/serving/regress. Was: {signature_def.method_name}")
        match = _STATUS_OR_METADATA.match(path)
        if match and method == "GET":
            if match["metadata"]:
                servable = self._resolve(match)
                signature_map = self.inference.signature_def_map(servable, ["signature_def"])
                from google.protobuf import json_format

                return 200, {
                    "model_spec": {"name": servable.name, "signature_name": "",
                                   "version": str(servable.version)},
                    "metadata": {"signature_def": json_format.MessageToDict(
                        signature_map, preserving_proto_field_name=True)},
                }
            version = int(match["version"]) if match["version"] else None
            statuses = self.store.status(match["model"], version, match["label"])
            return 200, {"model_version_status": [
                {"version": str(s.version), "state": s.state,
                 "status": {"error_code": s.error_code, "error_message": s.error_message}}
                for s in statuses]}
        raise ServingError("NOT_FOUND" if method in ("GET", "POST") else "INVALID_ARGUMENT",
                           f"Malformed request: {method} {path}")

    def _resolve(self, match):
        version = int(match["version"]) if match["version"] else None
        return self.store.resolve(match["model"], version, match["label"])

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
        _, signature_def, _ = self.inference.signature(servable, signature_name)
        has_rows, has_columns = "instances" in request, "inputs" in request
        if has_rows and has_columns:
            raise invalid_argument("Not both 'instances' and 'inputs' can be specified.")
        if not has_rows and not has_columns:
            raise invalid_argument("Missing 'inputs' or 'instances' key")
        if has_rows:
            inputs = _rows_to_inputs(request["instances"], signature_def)
        else:
            inputs = _columns_to_inputs(request["inputs"], signature_def)
        output_filter = request.get("output_filter") or []
        _, outputs = self.inference.predict(servable, signature_name, inputs, None, output_filter)
        if has_columns:
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

    def _classify(self, servable, request: dict) -> dict:
        examples = request.get("examples")
        if not isinstance(examples, list):
            raise invalid_argument("Missing or invalid 'examples' key (a list of JSON objects)")
        context = request.get("context")
        if context is not None and not isinstance(context, dict):
            raise invalid_argument("'context' must be a JSON object")
        serialized = [_example(e, context) for e in examples]
        _, classes, scores = self.inference.classify(servable, request.get("signature_name") or "",
                                                     serialized)
        width = (classes if classes is not None else scores).shape[1]
        results = []
        for i in range(len(serialized)):
            row = []
            for j in range(width):
                label = classes[i, j].decode("utf-8", "replace") if classes is not None else ""
                score = float(scores[i, j]) if scores is not None else 0.0
                row.append([label, score])
            results.append(row)
        return {"results": results}
