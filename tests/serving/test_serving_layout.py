"""What `snout serve` and real TF Serving share on disk and on the wire: models.config, the
Classify method name the export marks, and the clients' lightweight protos."""

import os

import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from tests.fixtures.serving import fixture_model_template


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
