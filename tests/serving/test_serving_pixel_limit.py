"""`snout serve` and the exported model refuse images by one pixel limit (contract.MAX_IMAGE_PIXELS):
every header the model accepts the server accepts, and the server refuses exactly what the model
would. The model here carries the export's own decode guard (trainer/image_guard.py) and decodes
nothing, so headers declaring ~90 M pixels cost a few bytes (tests/fixtures/serving.py)."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

import contract
from tests.fixtures.serving import export_guarded_model, install_version, png_declaring

from cli import main as snout_cli
from pipeline.config import SnoutConfig
from serving.errors import ServingError
from serving.inference import InferenceService
from serving.limits import RequestLimits
from serving.local_server import LocalServer

# What `snout run` exports the model with (SnoutConfig.max_image_pixels reaches trainer/export.py).
MODEL_LIMIT = SnoutConfig().max_image_pixels


@pytest.fixture(scope="module")
def guarded_model(tmp_path_factory):
    return export_guarded_model(str(tmp_path_factory.mktemp("guarded") / "model"), MODEL_LIMIT)


@pytest.fixture(scope="module")
def server(guarded_model, tmp_path_factory):
    serving_dir = str(tmp_path_factory.mktemp("srv") / "serving")
    install_version(guarded_model, serving_dir)
    with LocalServer(serving_dir, grpc_port=0, rest_port=None, poll_seconds=0, settle_seconds=0,
                     quiet=True) as s:  # snout serve's default limits
        yield s


@pytest.fixture(scope="module")
def model_signature(server):
    """The served model's own serving_default, called without the server in front."""
    return server.store.resolve("snout").functions[contract.SIGNATURE_IMAGE_BYTES]


def _predict(server, image: bytes):
    """(gRPC status code, details) of a Predict on one image."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "snout"
    request.inputs[contract.SERVING_IMAGE_INPUT].CopyFrom(tf.make_tensor_proto([image], dtype=tf.string))
    with grpc.insecure_channel(server.grpc_address) as channel:
        try:
            prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)
        except grpc.RpcError as e:
            return e.code(), e.details()
    return grpc.StatusCode.OK, ""


def test_server_model_and_pipeline_share_one_pixel_limit():
    serve_args = snout_cli.build_parser().parse_args(["serve", "--serving-dir", "."])
    assert (RequestLimits().max_image_pixels == serve_args.max_image_pixels == MODEL_LIMIT
            == contract.MAX_IMAGE_PIXELS)


@pytest.mark.parametrize("width,height", [
    (8000, 8000),  # 64 M: the model accepts it; snout serve refused it at its old 50 M limit
    (9459, 9459),  # 89,472,681: just under the limit
    (9460, 9460),  # 89,491,600: just over
])
def test_server_and_model_agree_on_each_header(model_signature, server, width, height):
    image = png_declaring(width, height)
    accepted = width * height <= MODEL_LIMIT
    if accepted:
        model_signature(image_bytes=tf.constant([image]))
    else:  # the model's own refusal: InvalidArgument, before decoding
        with pytest.raises(tf.errors.InvalidArgumentError, match="refused before decoding"):
            model_signature(image_bytes=tf.constant([image]))
    code, details = _predict(server, image)
    if accepted:
        assert code == grpc.StatusCode.OK, details
    else:
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert details == (f"input image_bytes[0]: image of {width * height} pixels exceeds the limit of "
                           f"{MODEL_LIMIT} (snout serve --max-image-pixels)")


def test_model_refusal_reaches_the_client_as_invalid_argument(server):
    """With the server's bound raised past the model's, the model's guard answers, as under real TF Serving."""
    raised = InferenceService(server.store, RequestLimits(max_image_pixels=2 * MODEL_LIMIT))
    with pytest.raises(ServingError) as refused:
        raised.predict(server.store.resolve("snout"), "",
                       {contract.SERVING_IMAGE_INPUT: np.array([png_declaring(9460, 9460)], dtype=object)})
    assert refused.value.code == "INVALID_ARGUMENT" and "refused before decoding" in refused.value.message
