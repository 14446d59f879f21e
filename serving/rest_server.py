"""The HTTP transport of TF Serving's REST API (serving/rest_api.py holds the routes):
http.server threads with a socket read timeout, a bounded body, and 400 for a malformed
request line or headers, so no request can hold a thread or get a 500 for its framing.

A body over the limit is answered 413 before it is read. Most clients send the whole body
before reading the answer, and closing a socket with unread data resets the connection,
which would throw the 413 away (the client sees a broken pipe); so the rest of the body is
read in small blocks and dropped, up to DISCARD_BYTES, and only then is the connection closed.
"""

from __future__ import annotations

import json
import socket
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from serving.errors import ServingError, invalid_argument
from serving.inference import InferenceService, first_line
from serving.limits import RequestLimits
from serving.model_store import ModelStore
from serving.rest_api import RestApi


PAYLOAD_TOO_LARGE = 413    # HTTP's answer to a body over the server's limit (RFC 9110, 15.5.14)
DISCARD_BYTES = 1 << 30    # at most this much of a refused body is read (and dropped) before closing
_DISCARD_BLOCK = 1 << 16


class _BodyTooLarge(ServingError):
    """RESOURCE_EXHAUSTED, as gRPC answers, but with HTTP's own status for it."""

    http_status = PAYLOAD_TOO_LARGE

    def __init__(self, length: int, limit: int):
        super().__init__("RESOURCE_EXHAUSTED", f"Request of {length} bytes is larger than the server's "
                                               f"limit of {limit} bytes (snout serve --max-request-bytes)")
        self.length = length


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snout-serve"
    rest: "RestServer"  # set on the subclass, with `timeout` (StreamRequestHandler's socket timeout)

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
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: two small writes on a keep-alive connection
        # hit Nagle + delayed ACK (~40 ms per response).
        self._headers_buffer.append(b"\r\n" + payload)
        self.flush_headers()

    def _dispatch(self, method: str) -> None:
        unread = 0
        try:
            status, body = self.rest.api.handle(method, self.path.split("?", 1)[0], self._body(method))
        except ServingError as e:
            status, body = e.http_status, {"error": e.message}
            unread = e.length if isinstance(e, _BodyTooLarge) else 0
        except socket.timeout:  # the client stopped sending its body: drop it
            self.close_connection = True
            return
        except Exception as e:  # never crash on a request
            self.rest.log(f"REST {method} {self.path}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            status, body = 500, {"error": f"{type(e).__name__}: {first_line(str(e))}"}
        self._answer(status, body, unread)

    def _answer(self, status: int, body: dict, unread: int = 0) -> None:
        """Send the answer, then drop `unread` bytes of a refused body the client is still sending."""
        try:
            self._send(status, body)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
            return
        if unread:
            self._discard_body(unread)

    def _declared_length(self) -> int:
        """Content-Length as an int (0 if absent); 400, and close, for any other framing."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise invalid_argument("Transfer-Encoding is not supported: send a Content-Length")
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isdigit():
            self.close_connection = True
            raise invalid_argument(f"Invalid Content-Length header: {text[:40]!r}")
        return int(text)

    def _body(self, method: str) -> Optional[bytes]:
        """The body by Content-Length. An unread body would be taken for the next request,
        so every refusal here also closes the connection."""
        if method != "POST":
            return None
        length = self._declared_length()
        self._check_length(length)
        return self.rfile.read(length) if length else b""

    def _check_length(self, length: int) -> None:
        if length > self.rest.limits.max_request_bytes:
            self.close_connection = True
            raise _BodyTooLarge(length, self.rest.limits.max_request_bytes)

    def _discard_body(self, length: int) -> None:
        """Read and drop up to DISCARD_BYTES of a refused body, 64 KiB at a time (each read
        bounded by the socket timeout), so the client gets to read the answer already sent."""
        remaining = min(length, DISCARD_BYTES)
        block = memoryview(bytearray(_DISCARD_BLOCK))
        try:
            while remaining > 0:
                got = self.rfile.readinto(block[:min(remaining, _DISCARD_BLOCK)])
                if not got:
                    return
                remaining -= got
        except OSError:  # timeout or reset: the client is gone or stalled, close as planned
            pass

    def handle_expect_100(self):
        """`Expect: 100-continue` (what curl sends with a large body): a body over the limit, or
        one framed wrongly, is refused before the client sends it."""
        try:
            self._check_length(self._declared_length())
        except ServingError as e:
            self._answer(e.http_status, {"error": e.message}, e.length if isinstance(e, _BodyTooLarge) else 0)
            return False
        return super().handle_expect_100()

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")


class RestServer:
    def __init__(self, store: ModelStore, host: str = "127.0.0.1", port: int = 8501, log=None,
                 limits: RequestLimits = RequestLimits()):
        self.store = store
        self.limits = limits
        self.api = RestApi(InferenceService(store, limits))
        self.log = log or (lambda msg: None)
        handler = type("SnoutRestHandler", (_Handler,), {"rest": self, "timeout": limits.read_timeout_seconds})
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
