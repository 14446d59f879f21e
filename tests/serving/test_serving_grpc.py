"""`snout serve`'s gRPC API (PredictionService, ModelService) driven with TF Serving's own stubs:
answers, status codes and messages as TF Serving 2.16.1's source gives them."""

import grpc
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc,
                                     regression_pb2)

from tests.fixtures.serving import BLUE, RED, VERSION_LABELS, local_server, solid_image


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    with local_server(str(tmp_path_factory.mktemp("srv")), version_labels=VERSION_LABELS) as server:
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


# ---------------------------------------------------------------- answers

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


def test_grpc_classify_and_regress_unknown_signature_are_invalid_argument(stubs):
    """classifier.cc / regressor.cc GetClassificationSignatureDef, GetRegressionSignatureDef:
    errors::InvalidArgument("No signature was found with the name: ..."), where Predict
    (predict_util.cc) answers FAILED_PRECONDITION."""
    prediction, _ = stubs
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "snout"
    request.model_spec.signature_name = "nope"
    request.input.example_list.examples.add().features.feature["image"].bytes_list.value.append(
        solid_image(RED))
    assert _code(prediction.Classify, request) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                   "No signature was found with the name: nope")
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = "snout"
    request.model_spec.signature_name = "nope"
    request.input.example_list.examples.add()
    assert _code(prediction.Regress, request) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                  "No signature was found with the name: nope")
    request.model_spec.signature_name = "classification"
    code, details = _code(prediction.Regress, request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "regression signature method_name" in details


def test_grpc_model_status_ignores_the_version_label(stubs):
    """get_model_status_impl.cc reads only the spec's name and version: with any label, known
    ("stable") or not ("nope"), GetModelStatus lists every version (Predict still resolves it)."""
    _, model = stubs
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "snout"
    everything = model.GetModelStatus(request, timeout=10)
    for label in ("stable", "canary", "nope"):
        request.model_spec.version_label = label
        assert model.GetModelStatus(request, timeout=10) == everything
