"""The exported SavedModel: float32 whatever the training policy, fingerprint matching its graph,
a decode guard against images declaring too many pixels, and TF Serving warm-up records."""

import io
import os

import numpy as np
import pytest

import trainer.keras_compat as keras_compat
import tensorflow as tf

import contract
from tests.fixtures.serving import BLUE, RED, png_declaring, solid_image
from tests.fixtures.transform import transform_output
from tests.fixtures.settings import head, network
from trainer.backbones import get_backbone
from trainer.export import export_serving_model
from trainer.image_guard import declared_heights_widths, refuse_oversized_images
from trainer.model import build_classifier

SIZE = 32
CLASSES = ["blue", "red"]


def _mixed_precision_classifier():
    keras = keras_compat.training_keras()
    keras.mixed_precision.set_global_policy("mixed_float16")  # what devices.py sets on a GPU
    try:
        model, _ = build_classifier(keras, num_classes=2, network=network(image_size=SIZE, backbone="small_cnn",
                                                                          weights="none"), head=head(head_units=8))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(export dir, the mixed-precision network it was exported from)."""
    model = _mixed_precision_classifier()
    export_dir = str(tmp_path_factory.mktemp("export") / "model")
    export_serving_model(model, transform_output(SIZE, get_backbone("small_cnn").scaling), CLASSES,
                         export_dir, provenance={"backbone": "small_cnn"})
    return export_dir, model


def _saved_model_proto(export_dir):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return proto


def _half_typed(proto) -> list:
    """Every node or function argument typed float16 in any MetaGraph's graph and function library."""
    from tensorflow.core.framework import types_pb2

    half = types_pb2.DT_HALF
    found = []
    for meta_graph in proto.meta_graphs:
        graph = meta_graph.graph_def
        nodes = list(graph.node) + [n for fn in graph.library.function for n in fn.node_def]
        for node in nodes:
            for name, attr in node.attr.items():
                if attr.type == half or half in attr.list.type:
                    found.append(f"{node.name} ({node.op}) {name}")
        for fn in graph.library.function:
            for arg in list(fn.signature.input_arg) + list(fn.signature.output_arg):
                if arg.type == half:
                    found.append(f"{fn.signature.name} arg {arg.name}")
    return found


def test_serving_graph_is_float32_though_trained_under_mixed_precision(exported):
    export_dir, network = exported
    assert any(layer.dtype_policy.compute_dtype == "float16" for layer in network.layers)  # it was mixed
    assert _half_typed(_saved_model_proto(export_dir)) == []
    model = tf.saved_model.load(export_dir)
    assert all(v.dtype == tf.float32 for v in model.network_variables)
    images = [solid_image(RED, "PNG"), solid_image(BLUE, "JPEG")]
    out = model.signatures[contract.SIGNATURE_IMAGE_BYTES](image_bytes=tf.constant(images))
    assert out[contract.OUTPUT_PROBABILITIES].dtype == tf.float32
    # Same weights: the float32 copy answers as the mixed-precision network does (up to float16 rounding).
    transformed = np.stack([np.full((SIZE, SIZE, 3), c, np.float32) / 255.0 for c in (RED, BLUE)])
    np.testing.assert_allclose(out[contract.OUTPUT_PROBABILITIES].numpy(), network(transformed).numpy(), atol=2e-2)


def test_fingerprint_agrees_with_the_rewritten_graph(exported):
    from tensorflow.core.protobuf import fingerprint_pb2
    from tensorflow.python.saved_model.pywrap_saved_model import fingerprinting

    from contract.saved_model import read_signature_defs

    export_dir, _ = exported
    # The rewrite happened: the classification signature carries Classify's method name.
    assert read_signature_defs(export_dir)[contract.SIGNATURE_CLASSIFY].method_name == contract.CLASSIFY_METHOD_NAME
    stored, recomputed = fingerprint_pb2.FingerprintDef(), fingerprint_pb2.FingerprintDef()
    with open(os.path.join(export_dir, "fingerprint.pb"), "rb") as f:
        stored.ParseFromString(f.read())
    recomputed.ParseFromString(fingerprinting.CreateFingerprintDef(export_dir))
    assert stored.saved_model_checksum != 0
    assert stored == recomputed
    assert tf.saved_model.experimental.read_fingerprint(export_dir).saved_model_checksum == stored.saved_model_checksum


def test_exported_model_refuses_a_png_declaring_too_many_pixels_before_decoding(exported):
    export_dir, _ = exported
    model = tf.saved_model.load(export_dir)
    bomb = png_declaring(20000, 20000)  # 400M pixels: ~1.2 GB decoded, 100 bytes on the wire
    assert len(bomb) < 200
    for signature, kwargs in [
        (contract.SIGNATURE_IMAGE_BYTES, {"image_bytes": tf.constant([solid_image(RED), bomb])}),
        (contract.SIGNATURE_TF_EXAMPLE, {"examples": tf.constant([contract.make_example(bomb, 0).SerializeToString()])}),
        (contract.SIGNATURE_CLASSIFY, {"inputs": tf.constant([contract.make_example(bomb, 0).SerializeToString()])}),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=f"limit of {contract.MAX_IMAGE_PIXELS} pixels"):
            model.signatures[signature](**kwargs)
    with open(os.path.join(export_dir, contract.MODEL_EXTRA_DIR, contract.MODEL_INFO_FILE)) as f:
        assert f'"max_image_pixels": {contract.MAX_IMAGE_PIXELS}' in f.read()


def _encoded(fmt: str, width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "BMP"])
def test_declared_size_is_read_from_each_format_header(fmt):
    assert declared_heights_widths(tf.constant([_encoded(fmt, 37, 21)])).numpy().tolist() == [[21, 37]]
    small, large = _encoded(fmt, 10, 10), _encoded(fmt, 40, 30)
    assert refuse_oversized_images(tf.constant([small, small]), 100).shape == [2]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"limit of 1000 pixels[^0-9]*30[^0-9]+40"):
        refuse_oversized_images(tf.constant([small, large]), 1000)


def test_bytes_that_are_no_known_image_pass_the_guard_for_the_decoder_to_refuse():
    assert declared_heights_widths(tf.constant([b"not an image", b""])).numpy().tolist() == [[0, 0], [0, 0]]
    mixed = [_encoded("PNG", 5, 6), _encoded("JPEG", 7, 8), b"?", _encoded("GIF", 9, 10), _encoded("BMP", 11, 12)]
    assert declared_heights_widths(tf.constant(mixed)).numpy().tolist() == [[6, 5], [8, 7], [0, 0], [10, 9], [12, 11]]
    assert refuse_oversized_images(tf.constant([b"BM", b"\x89PNG"]), 1).shape == [2]  # truncated headers


def test_warmup_requests_parse_and_replay_against_the_signatures(exported):
    from tensorflow_serving.apis import prediction_log_pb2

    from contract.saved_model import WARMUP_REQUESTS_FILE, read_signature_defs

    export_dir, _ = exported
    path = os.path.join(export_dir, WARMUP_REQUESTS_FILE)
    logs = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log", "predict_log", "classify_log"]
    model = tf.saved_model.load(export_dir)
    signature_defs = read_signature_defs(export_dir)
    for log in logs[:2]:  # what TF Serving's warm-up does with a Predict: run the named signature
        request = log.predict_log.request
        assert set(request.inputs) == set(signature_defs[request.model_spec.signature_name].inputs)
        inputs = {name: tf.constant(tf.make_ndarray(proto)) for name, proto in request.inputs.items()}
        out = model.signatures[request.model_spec.signature_name](**inputs)
        n = len(next(iter(inputs.values())))
        assert out[contract.OUTPUT_PROBABILITIES].shape == (n, len(CLASSES))
        assert set(out[contract.OUTPUT_CLASS_NAME].numpy()) <= {c.encode() for c in CLASSES}
    assert len(logs[0].predict_log.request.inputs[contract.SERVING_IMAGE_INPUT].string_val) == 2  # JPEG and PNG
    classify = logs[2].classify_log.request
    assert signature_defs[classify.model_spec.signature_name].method_name == contract.CLASSIFY_METHOD_NAME
    serialized = [e.SerializeToString() for e in classify.input.example_list.examples]
    out = model.signatures[classify.model_spec.signature_name](inputs=tf.constant(serialized))
    assert out["classes"].numpy().tolist() == [[c.encode() for c in CLASSES]]
    np.testing.assert_allclose(out["scores"].numpy().sum(axis=1), 1.0, rtol=1e-5)
