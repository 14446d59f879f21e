"""A REST body over `--max-request-bytes` (default 64 MiB) gets HTTP 413 with a JSON error, not a
dropped connection, and the server goes on serving. The bodies (67.1 MB, 200 MB) are streamed over
loopback by Python's own HTTP client, which sends the whole body before reading the answer (so it
saw a broken pipe when the server closed early; `requests` hides that), and neither side holds them."""

import http.client
import json

import pytest
import requests

from tests.fixtures.serving import RED, ZeroBody, b64, local_server, raw_http, solid_image

from serving.limits import RequestLimits

DEFAULT_LIMIT = RequestLimits().max_request_bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with local_server(str(tmp_path_factory.mktemp("srv")), grpc_port=None) as s:  # default limits
        yield s


def _predicts_red(url: str) -> bool:
    r = requests.post(url + "/v1/models/snout:predict", json={"instances": [b64(solid_image(RED))]}, timeout=30)
    return r.status_code == 200 and r.json()["predictions"][0]["class_name"] == "red"


@pytest.mark.parametrize("size", [DEFAULT_LIMIT + 1, 200_000_000], ids=["67MB", "200MB"])
def test_body_over_the_limit_gets_413_and_the_server_stays_healthy(server, size):
    host, port = server.rest_url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("POST", "/v1/models/snout:predict", body=ZeroBody(size),
                           headers={"Content-Type": "application/json", "Content-Length": str(size)})
        response = connection.getresponse()
        status, headers, body = response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()
    assert status == 413, body
    assert body == {"error": f"Request of {size} bytes is larger than the server's limit of "
                             f"{DEFAULT_LIMIT} bytes (snout serve --max-request-bytes)"}
    assert headers["Connection"] == "close"
    assert _predicts_red(server.rest_url)


def test_expect_100_continue_is_refused_before_the_body_is_sent(server):
    """curl sends `Expect: 100-continue` for big bodies: the 413 comes instead of `100 Continue`."""
    answer = raw_http(server.rest_url, b"POST /v1/models/snout:predict HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Length: 200000000\r\nExpect: 100-continue\r\n\r\n",
                      half_close=True)  # no body follows
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"100 Continue" not in answer and b"larger than the server's limit" in answer
    assert _predicts_red(server.rest_url)
