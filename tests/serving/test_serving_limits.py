"""`snout serve` bounds each request (issue 15): images per request, pixels per image, request
bytes, socket read timeout, malformed REST framing. The bursts that took main's server from
1.5 to 6+ GB run here against a server process with small limits, and its RSS is measured
before and after (printed; asserted only against the gigabytes an unbounded decode costs)."""

import base64
import json

import grpc
import numpy as np
import pytest
import requests

from tests.fixtures.serving import (BLUE, RED, ZeroBody, make_serving_dir, peak_rss_mb, png_declaring, raw_http,
                                    rss_mb, solid_image, start_server_process, stop_server_process)
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

import tensorflow as tf  # noqa: E402

from serving.limits import RequestLimits, chunks  # noqa: E402
from serving.local_server import LocalServer  # noqa: E402

MAX_IMAGES, MAX_PIXELS, MAX_BYTES = 50, 1_000_000, 256 * 1024
# A 20000x20000 RGB image decodes to 1.2 GB (uint8), ~6 GB through the model's float resize:
# growing by less than this means nothing of it was decoded.
DECODE_COST_MB = 1000


@pytest.fixture(scope="module")
def bounded(tmp_path_factory):
    serving_dir = make_serving_dir(str(tmp_path_factory.mktemp("bounded")), versions=(1,))
    proc, address, url = start_server_process(
        serving_dir, "--max-images-per-request", str(MAX_IMAGES), "--max-image-pixels", str(MAX_PIXELS),
        "--max-request-bytes", str(MAX_BYTES), "--read-timeout-seconds", "2")
    channel = grpc.insecure_channel(address)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    grpc.channel_ready_future(channel).result(timeout=60)
    _predict(stub, [solid_image(RED)])  # loaded and warm before any RSS is read
    yield proc, stub, url
    channel.close()
    stop_server_process(proc)


def _predict(stub, images):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "snout"
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(images, dtype=tf.string))
    return stub.Predict(request, timeout=60)


def _refused(stub, images):
    with pytest.raises(grpc.RpcError) as info:
        _predict(stub, images)
    return info.value.code(), info.value.details()


def _tiny_png():
    return solid_image(RED, "PNG", size=1)


def test_too_many_images_refused_and_memory_stays(bounded):
    proc, stub, url = bounded
    before = rss_mb(proc.pid)
    code, details = _refused(stub, [_tiny_png()] * 1000)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"Task size 1000 is larger than maximum input batch size {MAX_IMAGES}")
    body = {"instances": [{"b64": base64.b64encode(_tiny_png()).decode()}] * 1000}
    r = requests.post(url + "/v1/models/snout:predict", json=body, timeout=30)
    assert r.status_code == 400 and "Task size 1000" in r.json()["error"]
    examples = [{"image": {"b64": base64.b64encode(_tiny_png()).decode()}}] * 1000
    r = requests.post(url + "/v1/models/snout:classify", json={"signature_name": "classification",
                                                               "examples": examples}, timeout=30)
    assert r.status_code == 400 and "Task size 1000" in r.json()["error"]
    after = rss_mb(proc.pid)
    print(f"\n1000 tiny PNGs (refused): server RSS {before:.0f} -> {after:.0f} MB")
    assert after - before < DECODE_COST_MB


def test_image_declaring_too_many_pixels_refused_before_decoding(bounded):
    proc, stub, url = bounded
    bomb = png_declaring(20000, 20000)
    assert len(bomb) < 4096
    before = rss_mb(proc.pid)
    code, details = _refused(stub, [solid_image(RED), bomb])
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details == (f"input image_bytes[1]: image of 400000000 pixels exceeds the limit of "
                       f"{MAX_PIXELS} (snout serve --max-image-pixels)")
    example = tf.train.Example()
    example.features.feature["image"].bytes_list.value.append(bomb)
    r = requests.post(url + "/v1/models/snout:predict", json={
        "signature_name": "serving_tf_example",
        "instances": [{"b64": base64.b64encode(example.SerializeToString()).decode()}]}, timeout=30)
    assert r.status_code == 400 and "400000000 pixels" in r.json()["error"]
    after = rss_mb(proc.pid)
    print(f"\n20000x20000 PNG header (refused): server RSS {before:.0f} -> {after:.0f} MB")
    assert after - before < DECODE_COST_MB
    assert _predict(stub, [solid_image(BLUE)]).outputs["class_name"].string_val == [b"blue"]


def test_request_bytes_bounded_on_both_apis(bounded):
    _, stub, url = bounded
    big = b"\0" * (MAX_BYTES + 1)
    code, _ = _refused(stub, [big])
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    r = requests.post(url + "/v1/models/snout:predict", data=big, timeout=30)
    assert r.status_code == 413  # RESOURCE_EXHAUSTED, with HTTP's own status for a body too large
    assert "larger than the server's limit" in r.json()["error"]
    r = requests.post(url + "/v1/models/snout:predict", data=big[:MAX_BYTES], timeout=30)
    assert r.status_code == 400 and "JSON" in r.json()["error"]  # the limit itself is read


def test_refused_rest_body_is_dropped_not_held(bounded):
    """A 200 MB body to a server whose limit is 256 KiB: answered 413, read and thrown away in
    small blocks, so the server's peak RSS grows by far less than the body."""
    proc, _, url = bounded
    before = peak_rss_mb(proc.pid, reset=True)
    r = requests.post(url + "/v1/models/snout:predict", data=ZeroBody(200_000_000), timeout=60)
    assert r.status_code == 413
    growth = peak_rss_mb(proc.pid) - before
    print(f"\n200 MB REST body (refused): server peak RSS +{growth:.0f} MB")
    assert growth < 50


@pytest.mark.parametrize("header", [b"Content-Length: -1", b"Content-Length: abc",
                                    b"Transfer-Encoding: chunked"])
def test_rest_malformed_length_headers_are_400(bounded, header):
    _, _, url = bounded
    answer = raw_http(url, b"POST /v1/models/snout:predict HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b'"error"' in answer


def test_rest_deeply_nested_json_is_400(bounded):
    _, _, url = bounded
    for depth in (100_000, 200):
        body = b'{"instances": ' + b"[" * depth + b"]" * depth + b"}"
        r = requests.post(url + "/v1/models/snout:predict", data=body, timeout=30)
        assert r.status_code == 400, (depth, r.text[:200])
        assert json.loads(r.text)["error"]


def test_rest_client_that_stops_sending_is_dropped(bounded):
    """Content-Length says 100 bytes, none come: the server closes the connection after its
    read timeout (2 s here) instead of holding a thread, and keeps serving."""
    _, stub, url = bounded
    answer = raw_http(url, b"POST /v1/models/snout:predict HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 100\r\n\r\n", read_timeout=60)
    assert answer == b""
    r = requests.post(url + "/v1/models/snout:predict",
                      json={"instances": [{"b64": base64.b64encode(solid_image(RED)).decode()}]}, timeout=30)
    assert r.status_code == 200 and r.json()["predictions"][0]["class_name"] == "red"


def test_big_batch_runs_in_chunks_in_order(tmp_path):
    """Within the limits, a batch larger than a chunk is fed to the model in chunks and the
    rows come back whole and in order."""
    serving_dir = make_serving_dir(str(tmp_path), versions=(1,))
    limits = RequestLimits(chunk_rows=3)
    images = [solid_image(RED if i % 3 == 0 else BLUE, "PNG", size=4) for i in range(10)]
    with LocalServer(serving_dir, grpc_port=0, rest_port=None, poll_seconds=0, settle_seconds=0,
                     quiet=True, limits=limits) as server:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(server.grpc_address))
        response = _predict(stub, images)
    names = [b.decode() for b in response.outputs["class_name"].string_val]
    assert names == ["red" if i % 3 == 0 else "blue" for i in range(10)]
    assert [d.size for d in response.outputs["probabilities"].tensor_shape.dim] == [10, 2]


def test_chunks_bound_rows_and_pixels():
    limits = RequestLimits(chunk_rows=4, chunk_pixels=100)
    assert list(chunks(limits, [1] * 10)) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    # a chunk closes before its pixels pass the budget; one big image still gets its own chunk
    assert list(chunks(limits, [60, 60, 500, 10])) == [slice(0, 1), slice(1, 2), slice(2, 3), slice(3, 4)]
    assert list(chunks(limits, [])) == []
    assert np.concatenate([np.arange(10)[s] for s in chunks(limits, [1] * 10)]).tolist() == list(range(10))
