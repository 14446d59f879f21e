"""TFX's own InfraValidator on a Kubernetes cluster: a real TF Serving pod loads the candidate.

Used on open-source Kubeflow Pipelines, where TFX's KubernetesRunner starts a model-server pod
beside the component's pod (same namespace and service account), sends real requests, and
stops it. Two adaptations, no change to what is validated:
- TFX 1.16's KubeflowV2DagRunner refuses `tfx.components.InfraValidator` instances by class
  ("not supported"), so TFServingInfraValidator is the same spec and executor under another class.
- TFX's KubernetesRunner finds its namespace in KFP_NAMESPACE (KFP v1); KFP v2 pods carry
  NAMESPACE (and KFP_POD_NAME, which it also needs), so the executor copies it across.
"""

import os

from tfx import types
from tfx.components.infra_validator import executor as infra_validator_executor
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import infra_validator_pb2
from tfx.types import standard_artifacts, standard_component_specs

import contract

# TF Serving's release for TensorFlow 2.16 (the TF the snout image trains and exports with).
TF_SERVING_IMAGE = "tensorflow/serving"
TF_SERVING_TAG = "2.16.1"
# TFX's request builder needs signatures fed by serialized tf.Examples (predict with one string
# input, or classify); raw-bytes serving_default is probed by SavedModelInfraValidator instead.
SIGNATURES = (contract.SIGNATURE_TF_EXAMPLE, contract.SIGNATURE_CLASSIFY)
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
KFP_NAMESPACE, KFP_V2_NAMESPACE = "KFP_NAMESPACE", "NAMESPACE"


def pod_namespace() -> str:
    """The namespace of the pod this runs in: KFP v2's NAMESPACE, else the service account's."""
    if os.environ.get(KFP_V2_NAMESPACE):
        return os.environ[KFP_V2_NAMESPACE]
    with open(SERVICE_ACCOUNT_NAMESPACE) as f:
        return f.read().strip()


class KubeflowV2Executor(infra_validator_executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        if not os.environ.get(KFP_NAMESPACE):
            os.environ[KFP_NAMESPACE] = pod_namespace()
        super().Do(input_dict, output_dict, exec_properties)


class TFServingInfraValidator(base_component.BaseComponent):
    SPEC_CLASS = standard_component_specs.InfraValidatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(KubeflowV2Executor)

    def __init__(self, model: types.BaseChannel, examples: types.BaseChannel, serving_spec, validation_spec,
                 request_spec):
        super().__init__(spec=standard_component_specs.InfraValidatorSpec(
            model=model, examples=examples, serving_spec=serving_spec, validation_spec=validation_spec,
            request_spec=request_spec, blessing=types.Channel(type=standard_artifacts.InfraBlessing)))


def kubernetes_infra_validator(model, examples, model_name: str, num_examples: int = 4):
    """TF Serving 2.16.1 on Kubernetes, warm-up requests built from real examples (make_warmup):
    its blessing carries the model plus assets.extra/tf_serving_warmup_requests for the Pusher."""
    return TFServingInfraValidator(
        model=model, examples=examples,
        serving_spec=infra_validator_pb2.ServingSpec(
            tensorflow_serving=infra_validator_pb2.TensorFlowServing(image_name=TF_SERVING_IMAGE,
                                                                     tags=[TF_SERVING_TAG]),
            kubernetes=infra_validator_pb2.KubernetesConfig(),
            model_name=model_name),
        validation_spec=infra_validator_pb2.ValidationSpec(max_loading_time_seconds=600, num_tries=3),
        request_spec=infra_validator_pb2.RequestSpec(
            tensorflow_serving=infra_validator_pb2.TensorFlowServingRequestSpec(signature_names=list(SIGNATURES)),
            num_examples=num_examples, make_warmup=True)).with_id("InfraValidator")
