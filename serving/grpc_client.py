"""TF Serving gRPC client: Predict, Classify, GetModelMetadata, GetModelStatus.

No TensorFlow import: messages come from serving.protos (a private descriptor pool)
and the stubs are plain grpc unary-unary callables on TF Serving's method paths.
"""

from __future__ import annotations

from typing import List, Optional

import grpc

import contract
from serving import protos, tensors
from serving.client_common import (SIGNATURE_INPUTS, ClassifyResult, ModelInfo, PredictResult,
                                   decode_strings, serialized_image_example, with_retries)
from serving.errors import ServerUnreachable, ServingError

MAX_MESSAGE_BYTES = 2**31 - 1
_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
_STATES = {0: "UNKNOWN", 10: "START", 20: "LOADING", 30: "AVAILABLE", 40: "UNLOADING", 50: "END"}


class GrpcClient:
    def __init__(self, target: str, timeout: float = 10.0, retries: int = 2,
                 backoff_seconds: float = 0.25):
        self.target = target
        self.timeout = timeout
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.m = protos.messages()
        self.channel = grpc.insecure_channel(target, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        m = self.m

        def rpc(service, method, request_class, response_class):
            return self.channel.unary_unary(
                f"/tensorflow.serving.{service}/{method}",
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString)

        self._predict = rpc("PredictionService", "Predict", m.PredictRequest, m.PredictResponse)
        self._classify = rpc("PredictionService", "Classify", m.ClassificationRequest,
                             m.ClassificationResponse)
        self._metadata = rpc("PredictionService", "GetModelMetadata", m.GetModelMetadataRequest,
                             m.GetModelMetadataResponse)
        self._status = rpc("ModelService", "GetModelStatus", m.GetModelStatusRequest,
                           m.GetModelStatusResponse)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- plumbing ----

    def _call(self, stub, request):
        def once():
            return stub(request, timeout=self.timeout)

        try:
            return with_retries(once, lambda e: isinstance(e, grpc.RpcError) and e.code() in _RETRYABLE,
                                self.retries, self.backoff_seconds)
        except grpc.RpcError as e:
            code, details = e.code(), e.details() or ""
            if code == grpc.StatusCode.UNAVAILABLE:
                raise ServerUnreachable("UNAVAILABLE", f"cannot reach TF Serving at {self.target}: "
                                                       f"{details}") from None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise ServerUnreachable("DEADLINE_EXCEEDED", f"TF Serving at {self.target} did not "
                                        f"answer within {self.timeout:g}s") from None
            raise ServingError(code.name, details) from None

    @staticmethod
    def _spec(spec, model: str, version: Optional[int], signature: Optional[str] = None):
        spec.name = model
        if version is not None:
            spec.version.value = int(version)
        if signature:
            spec.signature_name = signature

    # ---- API ----

    def predict_raw(self, model: str, inputs: dict, version: Optional[int] = None,
                    signature: str = contract.SIGNATURE_IMAGE_BYTES, output_filter=()) -> PredictResult:
        """inputs: alias -> TensorProto-filling callable or a ready TensorProto message."""
        request = self.m.PredictRequest()
        self._spec(request.model_spec, model, version, signature)
        for alias, value in inputs.items():
            if callable(value):
                value(request.inputs[alias])
            else:
                request.inputs[alias].CopyFrom(value)
        request.output_filter.extend(output_filter)
        response = self._call(self._predict, request)
        outputs = {alias: decode_strings(tensors.to_numpy(proto))
                   for alias, proto in response.outputs.items()}
        version_out = response.model_spec.version.value if response.model_spec.HasField("version") else None
        return PredictResult(version_out, outputs)

    def predict(self, images: List[bytes], model: str, version: Optional[int] = None,
                signature: str = contract.SIGNATURE_IMAGE_BYTES, input_key: Optional[str] = None,
                as_examples: Optional[bool] = None) -> PredictResult:
        """Predict on encoded images (raw bytes, or wrapped in tf.Examples for
        serving_tf_example-style signatures)."""
        default_key, default_examples = SIGNATURE_INPUTS.get(signature, (contract.SERVING_IMAGE_INPUT, False))
        key = input_key or default_key
        examples = default_examples if as_examples is None else as_examples
        values = ([serialized_image_example(i, self.m.Example) for i in images] if examples
                  else list(images))
        return self.predict_raw(model, {key: lambda proto: tensors.fill_string_tensor(proto, values)},
                                version, signature)

    def classify(self, images: List[bytes], model: str, version: Optional[int] = None,
                 signature: str = contract.SIGNATURE_CLASSIFY) -> ClassifyResult:
        request = self.m.ClassificationRequest()
        self._spec(request.model_spec, model, version, signature)
        for image in images:
            example = request.input.example_list.examples.add()
            example.features.feature[contract.IMAGE_KEY].bytes_list.value.append(image)
        response = self._call(self._classify, request)
        rows = [[(c.label, c.score) for c in classification.classes]
                for classification in response.result.classifications]
        version_out = response.model_spec.version.value if response.model_spec.HasField("version") else None
        return ClassifyResult(version_out, rows)

    def model_info(self, model: str, version: Optional[int] = None,
                   with_signatures: bool = True) -> ModelInfo:
        """GetModelStatus (+ GetModelMetadata signature_def when with_signatures)."""
        info = ModelInfo()
        request = self.m.GetModelStatusRequest()
        self._spec(request.model_spec, model, version)
        for status in self._call(self._status, request).model_version_status:
            info.versions.append((status.version, _STATES.get(status.state, str(status.state))))
        if with_signatures:
            request = self.m.GetModelMetadataRequest()
            self._spec(request.model_spec, model, version)
            request.metadata_field.append("signature_def")
            response = self._call(self._metadata, request)
            packed = response.metadata["signature_def"]
            signature_map = self.m.SignatureDefMap.FromString(packed.value)
            for name, sig in signature_map.signature_def.items():
                info.signatures[name] = {
                    "method_name": sig.method_name,
                    "inputs": {k: tensors.dtype_name(v.dtype) for k, v in sig.inputs.items()},
                    "outputs": {k: tensors.dtype_name(v.dtype) for k, v in sig.outputs.items()},
                }
        return info
