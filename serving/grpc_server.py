"""TF Serving's gRPC API (PredictionService + ModelService) over a ModelStore."""

from __future__ import annotations

import functools
import traceback
from concurrent import futures
from typing import Optional

import grpc

import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,  # noqa: E402
                                     get_model_status_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc)

from serving import tensors  # noqa: E402
from serving.errors import ServingError, invalid_argument  # noqa: E402
from serving.limits import RequestLimits  # noqa: E402
from serving.inference import InferenceService, first_line  # noqa: E402
from serving.model_store import ModelStore  # noqa: E402

# Answers may be large (TF Serving raises gRPC's 4 MB default to int32 max); requests are
# bounded by RequestLimits.max_request_bytes, which gRPC itself refuses with RESOURCE_EXHAUSTED.
MAX_MESSAGE_BYTES = 2**31 - 1
_ERROR_CODE_NUMBERS = {"OK": 0, "UNKNOWN": 2}


def _spec(model_spec):
    version = model_spec.version.value if model_spec.HasField("version") else None
    label = model_spec.version_label if model_spec.WhichOneof("version_choice") == "version_label" else None
    return model_spec.name, version, label


def _fill_spec(out_spec, servable, signature_name: Optional[str]):
    out_spec.name = servable.name
    out_spec.version.value = servable.version
    if signature_name is not None:
        out_spec.signature_name = signature_name


def _handler(method):
    """ServingError -> its status; anything unexpected -> INTERNAL. Never raises further."""

    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except ServingError as e:
            error = e
        except Exception as e:  # a bug or an odd request must not take the server down
            self.log(f"{method.__name__}: unexpected {type(e).__name__}: {e}\n{traceback.format_exc()}")
            error = ServingError("INTERNAL", f"{type(e).__name__}: {first_line(str(e))}")
        context.abort(getattr(grpc.StatusCode, error.code, grpc.StatusCode.INTERNAL), error.message)

    return wrapper


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, inference: InferenceService, log):
        self.inference = inference
        self.log = log

    @_handler
    def Predict(self, request, context):
        servable = self.inference.store.resolve(*_spec(request.model_spec))
        inputs, dtypes = {}, {}
        for alias, proto in request.inputs.items():
            dtypes[alias] = proto.dtype
            try:
                inputs[alias] = tf.make_ndarray(proto)
            except Exception as e:
                raise invalid_argument(f"input {alias}: cannot read TensorProto: {first_line(str(e))}")
        name, outputs = self.inference.predict(servable, request.model_spec.signature_name, inputs,
                                               dtypes, list(request.output_filter))
        response = predict_pb2.PredictResponse()
        _fill_spec(response.model_spec, servable, name)
        for alias, value in outputs.items():
            tensors.fill_proto_fields(response.outputs[alias], value)
        return response

    @_handler
    def Classify(self, request, context):
        servable = self.inference.store.resolve(*_spec(request.model_spec))
        examples = _serialized_examples(request.input)
        name, classes, scores = self.inference.classify(
            servable, request.model_spec.signature_name, examples)
        response = classification_pb2.ClassificationResponse()
        _fill_spec(response.model_spec, servable, name)
        n = len(examples)
        width = (classes if classes is not None else scores).shape[1]
        for i in range(n):
            result = response.result.classifications.add()
            for j in range(width):
                entry = result.classes.add()
                if classes is not None:
                    entry.label = classes[i, j].decode("utf-8", "replace")
                if scores is not None:
                    entry.score = float(scores[i, j])
        return response

    @_handler
    def Regress(self, request, context):
        servable = self.inference.store.resolve(*_spec(request.model_spec))
        self.inference.regress(servable, request.model_spec.signature_name)

    @_handler
    def MultiInference(self, request, context):
        raise ServingError("UNIMPLEMENTED", "MultiInference is not supported by snout serve")

    @_handler
    def GetModelMetadata(self, request, context):
        servable = self.inference.store.resolve(*_spec(request.model_spec))
        signature_map = self.inference.signature_def_map(servable, list(request.metadata_field))
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        _fill_spec(response.model_spec, servable, None)
        response.metadata["signature_def"].Pack(signature_map)
        return response


def _serialized_examples(request_input):
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        return [e.SerializeToString() for e in request_input.example_list.examples]
    if kind == "example_list_with_context":
        context = request_input.example_list_with_context.context
        merged = []
        for example in request_input.example_list_with_context.examples:
            copy = type(example)()
            copy.CopyFrom(context)
            copy.MergeFrom(example)
            merged.append(copy.SerializeToString())
        return merged
    raise invalid_argument("Input is empty.")


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, store: ModelStore, log):
        self.store = store
        self.log = log

    @_handler
    def GetModelStatus(self, request, context):
        name, version, _ = _spec(request.model_spec)  # the label is ignored, as in TF Serving (ModelStore.status)
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in self.store.status(name, version):
            entry = response.model_version_status.add()
            entry.version = status.version
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(status.state)
            entry.status.error_code = _ERROR_CODE_NUMBERS.get(status.error_code, 2)
            entry.status.error_message = status.error_message
        return response

    @_handler
    def HandleReloadConfigRequest(self, request, context):
        raise ServingError("UNIMPLEMENTED", "snout serve polls the serving directory; "
                                            "config reload is not supported")


class GrpcServer:
    """Owns the grpc.Server; `port` is the bound port (pass 0 for an ephemeral one)."""

    def __init__(self, store: ModelStore, host: str = "127.0.0.1", port: int = 8500,
                 max_workers: int = 8, log=None, limits: RequestLimits = RequestLimits()):
        self.log = log or (lambda msg: None)
        inference = InferenceService(store, limits)
        options = [("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                   ("grpc.max_receive_message_length", limits.max_request_bytes),
                   ("grpc.so_reuseport", 0)]
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers,
                                                             thread_name_prefix="snout-grpc"),
                                  options=options)
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            PredictionServicer(inference, self.log), self.server)
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(
            ModelServicer(store, self.log), self.server)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            self.port = self.server.add_insecure_port(address)
        except RuntimeError as e:
            raise OSError(f"cannot bind gRPC to {address}: {e}") from None
        if not self.port:
            raise OSError(f"cannot bind gRPC to {address}")
        self.host = host

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> "GrpcServer":
        self.server.start()
        return self

    def stop(self, grace: float = 1.0) -> None:
        self.server.stop(grace).wait()
