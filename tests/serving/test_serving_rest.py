"""`snout serve`'s REST API (/v1/models/...) over plain HTTP: routes, answers and status codes
as TF Serving 2.16.1's http_rest_api_handler.cc gives them."""

import base64

import pytest
import requests

from tests.fixtures.serving import BLUE, RED, VERSION_LABELS, b64, local_server, solid_image


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with local_server(str(tmp_path_factory.mktemp("srv")), grpc_port=None,
                      version_labels=VERSION_LABELS) as s:
        yield s


def test_rest_predict_rows_and_columns(server):
    url = server.rest_url + "/v1/models/snout:predict"
    r = requests.post(url, json={"instances": [b64(solid_image(RED)), b64(solid_image(BLUE))]},
                      timeout=10)
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert [p["class_name"] for p in predictions] == ["red", "blue"]
    assert [p["class_index"] for p in predictions] == [1, 0]
    r = requests.post(server.rest_url + "/v1/models/snout/versions/1:predict",
                      json={"inputs": {"image_bytes": [b64(solid_image(BLUE))]}}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"]["class_name"] == ["blue"]
    r = requests.post(server.rest_url + "/v1/models/snout/labels/stable:predict",
                      json={"instances": [{"image_bytes": b64(solid_image(RED))}]}, timeout=10)
    assert r.status_code == 200 and r.json()["predictions"][0]["class_name"] == "red"


def test_rest_classify_status_metadata(server):
    base = server.rest_url + "/v1/models/snout"
    r = requests.post(base + ":classify", json={
        "signature_name": "classification",
        "examples": [{"image": b64(solid_image(RED))}, {"image": b64(solid_image(BLUE))}]},
        timeout=10)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert max(results[0], key=lambda t: t[1])[0] == "red"
    assert max(results[1], key=lambda t: t[1])[0] == "blue"

    status = requests.get(base, timeout=10).json()
    assert status["model_version_status"] == [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]
    assert requests.get(base + "/versions/1", timeout=10).status_code == 200
    metadata = requests.get(base + "/metadata", timeout=10).json()
    assert metadata["model_spec"] == {"name": "snout", "signature_name": "", "version": "1"}
    sigs = metadata["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "serving_tf_example", "classification"} <= set(sigs)
    assert sigs["classification"]["method_name"] == "tensorflow/serving/classify"
    assert requests.get(base + "/versions/1/metadata", timeout=10).status_code == 200
    # Printed with always_print_primitive_fields, as TF Serving does: default values appear.
    default = sigs["serving_default"]
    assert default["defaults"] == {}
    image_input = default["inputs"]["image_bytes"]
    assert image_input["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
    assert image_input["dtype"] == "DT_STRING"


def test_rest_malformed_path_message(server):
    r = requests.get(server.rest_url + "/v1/models", timeout=10)
    assert (r.status_code, r.json()) == (400, {"error": "Malformed request: GET /v1/models"})


@pytest.mark.parametrize("method,path,body,status", [
    ("post", "/v1/models/snout:predict", {"instances": [{"b64": base64.b64encode(b"junk").decode()}]}, 400),
    ("post", "/v1/models/snout:predict", {"instances": [{"b64": "%%%not base64"}]}, 400),
    ("post", "/v1/models/snout:predict", {"instances": [1.5]}, 400),
    ("post", "/v1/models/snout:predict", {"instances": [{"pixels": "x"}]}, 400),
    ("post", "/v1/models/snout:predict", {"nothing": []}, 400),
    ("post", "/v1/models/snout:predict", {"instances": [], "inputs": []}, 400),
    ("post", "/v1/models/snout:predict", {"signature_name": "nope", "instances": ["x"]}, 400),
    ("post", "/v1/models/snout:classify", {"examples": [{"image": "x"}]}, 400),
    ("post", "/v1/models/snout/versions/7:predict", {"instances": ["x"]}, 404),
    ("post", "/v1/models/nope:predict", {"instances": ["x"]}, 404),
    ("get", "/v1/models/nope", None, 404),
    ("get", "/v1/models/snout/versions/7", None, 404),
    ("get", "/v1/models/nope/metadata", None, 404),
    ("get", "/v2/whatever", None, 404),
    # http_rest_api_handler.cc ProcessRequest: any other /v1/ request is "Malformed request", 400
    ("get", "/v1/models", None, 400),
    ("post", "/v1/models/snout", {"instances": ["x"]}, 400),
    ("put", "/v1/models/snout", None, 400),
    ("post", "/v1/models/snout:predict", {"instances": [b64(b"x")],
                                          "output_filter": ["class_name", "class_name"]}, 400),
    ("post", "/v1/models/snout:predict", {"inputs": {"image_bytes": []}}, 400),
])
def test_rest_errors(server, method, path, body, status):
    r = getattr(requests, method)(server.rest_url + path, json=body, timeout=10)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["error"], str) and r.json()["error"]


def test_rest_malformed_json_and_keeps_serving(server):
    url = server.rest_url + "/v1/models/snout:predict"
    r = requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = requests.post(url, json={"instances": [b64(solid_image(RED))]}, timeout=10)
    assert r.status_code == 200 and r.json()["predictions"][0]["class_name"] == "red"


def test_rest_classify_unknown_signature_is_invalid_argument(server):
    """classifier.cc GetClassificationSignatureDef: InvalidArgument (400), TF Serving's message."""
    r = requests.post(server.rest_url + "/v1/models/snout:classify", json={
        "signature_name": "nope", "examples": [{"image": b64(solid_image(RED))}]}, timeout=10)
    assert (r.status_code, r.json()) == (400, {"error": "No signature was found with the name: nope"})


def test_rest_status_by_label_lists_every_version(server):
    """http_rest_api_handler.cc ProcessModelStatusRequest hands the label to GetModelStatusImpl,
    which ignores it: /labels/<any> answers as /v1/models/snout (metadata and predict do resolve it)."""
    base = server.rest_url + "/v1/models/snout"
    everything = requests.get(base, timeout=10).json()
    for label in ("stable", "canary", "nope"):
        r = requests.get(f"{base}/labels/{label}", timeout=10)
        assert (r.status_code, r.json()) == (200, everything), label
    r = requests.get(base + "/labels/nope/metadata", timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "Unrecognized servable version label: nope"
