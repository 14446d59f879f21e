"""The local TF-Serving-compatible server (`snout serve`) driven with TF Serving's own
gRPC stubs and plain HTTP, plus the layout helpers (models.config, classify marking)."""

import base64
import os
import shutil
import time

import grpc
import pytest
import requests


from tests.fixtures.serving import (BLUE, RED, fixture_model_template, install_version,  # noqa: E402
                              make_serving_dir, solid_image)
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,  # noqa: E402
                                     get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from serving.local_server import LocalServer  # noqa: E402

import tensorflow as tf  # noqa: E402  (after the env var)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    serving_dir = make_serving_dir(str(tmp_path_factory.mktemp("srv")), versions=(1,))
    with LocalServer(serving_dir, grpc_port=0, rest_port=0, poll_seconds=0.2, settle_seconds=0,
                     version_labels={"snout": {"stable": 1, "canary": 99}}, quiet=True) as s:
        yield s


@pytest.fixture(scope="module")
def stubs(server):
    channel = grpc.insecure_channel(server.grpc_address)
    yield (prediction_service_pb2_grpc.PredictionServiceStub(channel),
           model_service_pb2_grpc.ModelServiceStub(channel))
    channel.close()


def _predict_request(images, model="snout", version=None, signature="", key="image_bytes",
                     tensor=None):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = version
    if signature:
        request.model_spec.signature_name = signature
    request.inputs[key].CopyFrom(tensor if tensor is not None else tf.make_tensor_proto(images))
    return request


def _code(call, request):
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=10)
    return info.value.code(), info.value.details()


# ---------------------------------------------------------------- gRPC

def test_grpc_predict_top_class_and_spec(stubs):
    prediction, _ = stubs
    response = prediction.Predict(_predict_request([solid_image(RED), solid_image(BLUE, "PNG")]),
                                  timeout=10)
    assert [s.decode() for s in tf.make_ndarray(response.outputs["class_name"])] == ["red", "blue"]
    assert list(tf.make_ndarray(response.outputs["class_index"])) == [1, 0]
    probabilities = tf.make_ndarray(response.outputs["probabilities"])
    assert probabilities.shape == (2, 2) and probabilities[0, 1] > 0.9
    assert response.model_spec.name == "snout"
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"


def test_grpc_predict_tf_example_signature_and_output_filter(stubs):
    prediction, _ = stubs
    example = tf.train.Example()
    example.features.feature["image"].bytes_list.value.append(solid_image(BLUE))
    request = _predict_request([example.SerializeToString()], signature="serving_tf_example",
                               key="examples")
    request.output_filter.append("class_name")
    response = prediction.Predict(request, timeout=10)
    assert list(response.outputs) == ["class_name"]
    assert tf.make_ndarray(response.outputs["class_name"])[0] == b"blue"


def test_grpc_classify(stubs):
    prediction, _ = stubs
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "snout"
    request.model_spec.signature_name = "classification"
    for colour in (RED, BLUE):
        example = request.input.example_list.examples.add()
        example.features.feature["image"].bytes_list.value.append(solid_image(colour))
    response = prediction.Classify(request, timeout=10)
    rows = [{c.label: c.score for c in r.classes} for r in response.result.classifications]
    assert rows[0]["red"] > 0.9 and rows[1]["blue"] > 0.9
    assert response.model_spec.version.value == 1

    # ExampleListWithContext: context features are merged into each example.
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "snout"
    request.model_spec.signature_name = "classification"
    ctx = request.input.example_list_with_context
    ctx.context.features.feature["image"].bytes_list.value.append(solid_image(RED))
    ctx.examples.add()
    response = prediction.Classify(request, timeout=10)
    assert max(response.result.classifications[0].classes, key=lambda c: c.score).label == "red"


def test_grpc_metadata_lists_signatures(stubs):
    prediction, _ = stubs
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "snout"
    request.metadata_field.append("signature_def")
    response = prediction.GetModelMetadata(request, timeout=10)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    sigs = signature_map.signature_def
    assert {"serving_default", "serving_tf_example", "classification"} <= set(sigs)
    assert set(sigs["serving_default"].inputs) == {"image_bytes"}
    assert set(sigs["serving_default"].outputs) == {"probabilities", "class_index", "class_name"}
    assert sigs["classification"].method_name == "tensorflow/serving/classify"
    assert response.model_spec.version.value == 1


def test_grpc_model_status(stubs):
    _, model = stubs
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "snout"
    response = model.GetModelStatus(request, timeout=10)
    assert [(s.version, s.state) for s in response.model_version_status] == [
        (1, get_model_status_pb2.ModelVersionStatus.AVAILABLE)]
    request.model_spec.version.value = 7
    code, details = _code(model.GetModelStatus, request)
    assert code == grpc.StatusCode.NOT_FOUND and "version 7" in details
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "nope"
    assert _code(model.GetModelStatus, request)[0] == grpc.StatusCode.NOT_FOUND


def test_grpc_error_codes_and_keeps_serving(stubs):
    prediction, _ = stubs
    red = solid_image(RED)
    code, details = _code(prediction.Predict, _predict_request([red], version=7))
    assert code == grpc.StatusCode.NOT_FOUND
    assert details == "Servable not found for request: Specific(snout, 7)"
    code, details = _code(prediction.Predict, _predict_request([red], model="nope"))
    assert (code, details) == (grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)")

    code, details = _code(prediction.Predict, _predict_request([b"not an image"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "image" in details.lower()
    code, details = _code(prediction.Predict, _predict_request([red], key="pixels"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "pixels" in details
    code, details = _code(prediction.Predict, _predict_request(
        None, tensor=tf.make_tensor_proto([1.0, 2.0], dtype=tf.float32)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "string" in details and "float" in details
    # predict_util.cc RunPredict: errors::FailedPrecondition for an unknown signature key
    code, details = _code(prediction.Predict, _predict_request([red], signature="nope"))
    assert (code, details) == (grpc.StatusCode.FAILED_PRECONDITION,
                               'Serving signature key "nope" not found.')
    code, _ = _code(prediction.Predict, _predict_request([red], model=""))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    request = _predict_request([red])
    request.output_filter.append("logits")
    assert _code(prediction.Predict, request)[0] == grpc.StatusCode.INVALID_ARGUMENT
    # 2-D input where the signature wants [None]
    code, _ = _code(prediction.Predict, _predict_request([[red]]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT

    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "snout"  # serving_default is a predict signature
    request.input.example_list.examples.add()
    code, details = _code(prediction.Classify, request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "method_name" in details
    request.model_spec.signature_name = "classification"  # example without an image
    assert _code(prediction.Classify, request)[0] == grpc.StatusCode.INVALID_ARGUMENT

    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "snout"
    request.metadata_field.append("graph")
    assert _code(prediction.GetModelMetadata, request)[0] == grpc.StatusCode.INVALID_ARGUMENT

    response = prediction.Predict(_predict_request([red]), timeout=10)  # still serving
    assert tf.make_ndarray(response.outputs["class_name"])[0] == b"red"


def test_grpc_predict_fills_typed_value_fields_like_tf_serving(stubs):
    """TF Serving answers with Tensor::AsProtoField: values in float_val / int64_val /
    string_val, tensor_content empty, so clients reading `.float_val` see them."""
    prediction, _ = stubs
    response = prediction.Predict(_predict_request([solid_image(RED), solid_image(BLUE)]), timeout=10)
    probabilities = response.outputs["probabilities"]
    assert probabilities.tensor_content == b"" and probabilities.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in probabilities.tensor_shape.dim] == [2, 2]
    assert len(probabilities.float_val) == 4 and probabilities.float_val[1] > 0.9
    class_index = response.outputs["class_index"]
    assert class_index.tensor_content == b"" and list(class_index.int64_val) == [1, 0]
    assert list(response.outputs["class_name"].string_val) == [b"red", b"blue"]


def test_grpc_duplicate_output_filter_and_empty_batch_refused(stubs):
    prediction, _ = stubs
    request = _predict_request([solid_image(RED)])
    request.output_filter.extend(["class_name", "class_name"])
    assert _code(prediction.Predict, request) == (  # predict_util.cc PreProcessPrediction
        grpc.StatusCode.INVALID_ARGUMENT, "duplicate output tensor alias: class_name")
    code, details = _code(prediction.Predict, _predict_request(
        None, tensor=tf.make_tensor_proto([], dtype=tf.string)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details == "input image_bytes is an empty batch: send at least one image"


def test_grpc_version_labels(stubs):
    prediction, _ = stubs
    request = _predict_request([solid_image(RED)])
    request.model_spec.version_label = "stable"
    assert prediction.Predict(request, timeout=10).model_spec.version.value == 1
    request.model_spec.version_label = "canary"  # points at a version that is not loaded
    assert _code(prediction.Predict, request)[0] == grpc.StatusCode.FAILED_PRECONDITION
    request.model_spec.version_label = "nope"
    assert _code(prediction.Predict, request)[0] == grpc.StatusCode.INVALID_ARGUMENT


# ---------------------------------------------------------------- REST

def _b64(data):
    return {"b64": base64.b64encode(data).decode()}


def test_rest_predict_rows_and_columns(server):
    url = server.rest_url + "/v1/models/snout:predict"
    r = requests.post(url, json={"instances": [_b64(solid_image(RED)), _b64(solid_image(BLUE))]},
                      timeout=10)
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert [p["class_name"] for p in predictions] == ["red", "blue"]
    assert [p["class_index"] for p in predictions] == [1, 0]
    r = requests.post(server.rest_url + "/v1/models/snout/versions/1:predict",
                      json={"inputs": {"image_bytes": [_b64(solid_image(BLUE))]}}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"]["class_name"] == ["blue"]
    r = requests.post(server.rest_url + "/v1/models/snout/labels/stable:predict",
                      json={"instances": [{"image_bytes": _b64(solid_image(RED))}]}, timeout=10)
    assert r.status_code == 200 and r.json()["predictions"][0]["class_name"] == "red"


def test_rest_classify_status_metadata(server):
    base = server.rest_url + "/v1/models/snout"
    r = requests.post(base + ":classify", json={
        "signature_name": "classification",
        "examples": [{"image": _b64(solid_image(RED))}, {"image": _b64(solid_image(BLUE))}]},
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
    ("post", "/v1/models/snout:predict", {"instances": [_b64(b"x")],
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
    r = requests.post(url, json={"instances": [_b64(solid_image(RED))]}, timeout=10)
    assert r.status_code == 200 and r.json()["predictions"][0]["class_name"] == "red"


# ---------------------------------------------------------------- versions

def _wait(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_loads_new_versions_unloads_old_and_survives_partial_pushes(tmp_path):
    serving_dir = make_serving_dir(str(tmp_path), versions=(1,))
    with LocalServer(serving_dir, grpc_port=None, rest_port=0, poll_seconds=0.2,
                     settle_seconds=0, quiet=True) as server:
        base = server.rest_url + "/v1/models/snout"
        red = {"instances": [_b64(solid_image(RED))]}
        assert requests.post(base + ":predict", json=red, timeout=10).json()["predictions"][0][
            "class_name"] == "red"
        # A push in progress: the version directory exists, saved_model.pb not yet.
        os.makedirs(os.path.join(serving_dir, "snout", "3", "variables"))
        # A broken push: saved_model.pb that is not a SavedModel.
        os.makedirs(os.path.join(serving_dir, "snout", "4"))
        with open(os.path.join(serving_dir, "snout", "4", "saved_model.pb"), "wb") as f:
            f.write(b"garbage")
        time.sleep(0.6)
        assert server.store.loaded_versions("snout") == [1]
        assert requests.post(base + ":predict", json=red, timeout=10).status_code == 200
        status = requests.get(base, timeout=10).json()["model_version_status"]
        assert {s["version"]: s["state"] for s in status} == {"4": "END", "1": "AVAILABLE"}

        # The broken push is completed (files rewritten): version 4 loads, 1 is unloaded.
        shutil.copytree(fixture_model_template(), os.path.join(serving_dir, "snout", "4"),
                        dirs_exist_ok=True)
        assert _wait(lambda: server.store.loaded_versions("snout") == [4])
        assert requests.get(base + "/versions/4", timeout=10).json()["model_version_status"][0][
            "state"] == "AVAILABLE"

        # Version 5 arrives (different class names): loaded, becomes the default,
        # version 4 is unloaded (latest policy, keep 1).
        install_version(fixture_model_template(("azul", "rojo")), serving_dir, "snout", 5)
        assert _wait(lambda: server.store.loaded_versions("snout") == [5])
        assert requests.post(base + ":predict", json=red, timeout=10).json()["predictions"][0][
            "class_name"] == "rojo"
        r = requests.post(base + "/versions/4:predict", json=red, timeout=10)
        assert r.status_code == 404 and "Specific(snout, 4)" in r.json()["error"]

        # Version 5 removed from disk: unloaded, 4 is the newest ready one again.
        shutil.rmtree(os.path.join(serving_dir, "snout", "5"))
        assert _wait(lambda: server.store.loaded_versions("snout") == [4])
        assert requests.post(base + ":predict", json=red, timeout=10).json()["predictions"][0][
            "class_name"] == "red"


def test_settling_delays_loading_a_push_in_progress(tmp_path):
    from serving.model_store import ModelStore

    serving_dir = make_serving_dir(str(tmp_path), versions=(1,))
    # copytree keeps the template's mtimes, which may be minutes old: make the push "just written"
    for root, _, files in os.walk(serving_dir):
        for name in files + ["."]:
            os.utime(os.path.join(root, name))
    store = ModelStore(serving_dir, poll_seconds=0, settle_seconds=60, log=lambda m: None)
    store.poll_once()
    assert store.loaded_versions("snout") == []  # files just written: wait for them to settle
    store.settle_seconds = 0
    store.poll_once()
    assert store.loaded_versions("snout") == [1]


def test_client_protos_are_wire_compatible_with_tf_serving_protos():
    from serving import protos

    light = protos._load_lightweight()
    request = light.PredictRequest()
    request.model_spec.name = "snout"
    request.model_spec.version.value = 3
    request.inputs["image_bytes"].dtype = 7
    request.inputs["image_bytes"].tensor_shape.dim.add().size = 1
    request.inputs["image_bytes"].string_val.append(b"abc")
    parsed = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    assert parsed.model_spec.version.value == 3
    assert tf.make_ndarray(parsed.inputs["image_bytes"]).tolist() == [b"abc"]
    response = predict_pb2.PredictResponse()
    response.outputs["p"].CopyFrom(tf.make_tensor_proto([[0.25, 0.75]], dtype=tf.float32))
    from serving.tensors import to_numpy

    back = light.PredictResponse.FromString(response.SerializeToString())
    assert to_numpy(back.outputs["p"]).tolist() == [[0.25, 0.75]]


def test_keep_all_versions(tmp_path):
    serving_dir = make_serving_dir(str(tmp_path), versions=(1, 2))
    with LocalServer(serving_dir, grpc_port=None, rest_port=0, poll_seconds=0.2,
                     settle_seconds=0, keep_versions=0, quiet=True) as server:
        assert server.store.loaded_versions("snout") == [1, 2]
        for v in (1, 2):
            r = requests.post(server.rest_url + f"/v1/models/snout/versions/{v}:predict",
                              json={"instances": [_b64(solid_image(BLUE))]}, timeout=10)
            assert r.status_code == 200
        assert [s["version"] for s in requests.get(server.rest_url + "/v1/models/snout",
                                                   timeout=10).json()["model_version_status"]] == ["2", "1"]


def test_server_without_versions_answers_not_found(tmp_path):
    with LocalServer(str(tmp_path), grpc_port=None, rest_port=0, poll_seconds=0.2, quiet=True) as s:
        r = requests.post(s.rest_url + "/v1/models/snout:predict", json={"instances": ["x"]}, timeout=10)
        assert r.status_code == 404 and r.json()["error"] == "Servable not found for request: Latest(snout)"


# ---------------------------------------------------------------- layout helpers

def test_write_models_config(tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from serving.model_config import write_models_config

    serving_dir = tmp_path / "serving"
    for model, version in (("snout", 1), ("snout", 2), ("other", 7)):
        (serving_dir / model / str(version)).mkdir(parents=True)
    (serving_dir / "notes").mkdir()           # no version dirs: not a model
    (serving_dir / ".tmp-push" / "3").mkdir(parents=True)  # hidden: skipped
    path = write_models_config(str(serving_dir))
    assert path == str(serving_dir / "models.config")
    config = text_format.Parse(open(path).read(), model_server_config_pb2.ModelServerConfig())
    models = {m.name: m for m in config.model_config_list.config}
    assert set(models) == {"snout", "other"}
    assert models["snout"].base_path == str(serving_dir / "snout")
    assert models["snout"].model_platform == "tensorflow"
    write_models_config(str(serving_dir), base_path_prefix="/models", num_versions=2)
    config = text_format.Parse(open(path).read(), model_server_config_pb2.ModelServerConfig())
    snout = [m for m in config.model_config_list.config if m.name == "snout"][0]
    assert snout.base_path == "/models/snout"
    assert snout.model_version_policy.latest.num_versions == 2


def _fake_saved_model(directory, inputs=("inputs",), outputs=("classes", "scores"), dtype=None):
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    meta = proto.meta_graphs.add()
    meta.meta_info_def.tags.append("serve")
    sig = meta.signature_def["classification"]
    sig.method_name = "tensorflow/serving/predict"
    for name in inputs:
        sig.inputs[name].dtype = dtype if dtype is not None else types_pb2.DT_STRING
    for name in outputs:
        sig.outputs[name].dtype = types_pb2.DT_FLOAT
    meta.signature_def["serving_default"].method_name = "tensorflow/serving/predict"
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "saved_model.pb"), "wb") as f:
        f.write(proto.SerializeToString())
    return directory


def test_mark_classify_signature(tmp_path):
    from tensorflow.core.framework import types_pb2

    from contract.saved_model import mark_classify_signature, read_signature_defs

    d = _fake_saved_model(str(tmp_path / "ok"))
    assert mark_classify_signature(d) is True
    sigs = read_signature_defs(d)
    assert sigs["classification"].method_name == "tensorflow/serving/classify"
    assert sigs["serving_default"].method_name == "tensorflow/serving/predict"  # untouched
    assert mark_classify_signature(d) is False  # idempotent
    assert os.listdir(d) == ["saved_model.pb"]  # no temp file left behind
    with pytest.raises(ValueError, match="no signature 'nope'"):
        mark_classify_signature(d, "nope")
    with pytest.raises(ValueError, match="exactly one input"):
        mark_classify_signature(_fake_saved_model(str(tmp_path / "b1"), inputs=("examples",)))
    with pytest.raises(ValueError, match="string"):
        mark_classify_signature(_fake_saved_model(str(tmp_path / "b2"), dtype=types_pb2.DT_FLOAT))
    with pytest.raises(ValueError, match="classes"):
        mark_classify_signature(_fake_saved_model(str(tmp_path / "b3"), outputs=("logits",)))
    with pytest.raises(FileNotFoundError):
        mark_classify_signature(str(tmp_path / "missing"))
    # The real fixture export went through it too.
    assert read_signature_defs(fixture_model_template())["classification"].method_name == \
        "tensorflow/serving/classify"
