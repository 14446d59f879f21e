"""SavedModelInfraValidator: a model that does not load or answer in a fresh TensorFlow process is
not blessed, and the Pusher does not push it.

The models here are small hand-made SavedModels with snout's three signatures (contract names),
one healthy and two broken on purpose; the images are real JPEGs in a real Examples artifact.
"""

import ast
import os

import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.types import artifact_utils, standard_artifacts

import contract
from components.infra_validation import executor as infra_executor
from components.infra_validation.component import SavedModelInfraValidator
from components.pusher import IdempotentPusher, IdempotentPusherExecutor
from tests.fixtures.images import encoded, halves

SPLIT = "eval"


def _probabilities(images):
    pixels = tf.map_fn(lambda b: tf.reduce_mean(tf.cast(tf.io.decode_image(b, channels=3), tf.float32)),
                       images, fn_output_signature=tf.float32)
    p = tf.sigmoid(pixels / 255.0 - 0.5)
    return tf.stack([p, 1.0 - p], axis=1)


def _outputs(probabilities):
    index = tf.argmax(probabilities, axis=1)
    return {contract.OUTPUT_PROBABILITIES: probabilities, contract.OUTPUT_CLASS_INDEX: index,
            contract.OUTPUT_CLASS_NAME: tf.gather(tf.constant(["cat", "dog"]), index)}


def _images_of(examples):
    features = {contract.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string)}
    return tf.io.parse_example(examples, features)[contract.IMAGE_KEY]


def save_model(path, broken=None):
    """broken: None (healthy), "raises" (serving_default fails at call time), "missing" (no classification)."""
    module = tf.Module()
    strings = tf.TensorSpec([None], tf.string)

    @tf.function(input_signature=[strings])
    def image_bytes(image_bytes):
        if broken == "raises":
            tf.debugging.assert_equal(tf.size(image_bytes), -1, message="serving_default broken on purpose")
        return _outputs(_probabilities(image_bytes))

    @tf.function(input_signature=[strings])
    def tf_example(examples):
        return _outputs(_probabilities(_images_of(examples)))

    @tf.function(input_signature=[strings])
    def classify(inputs):
        scores = _probabilities(_images_of(inputs))
        classes = tf.tile(tf.constant([["cat", "dog"]]), [tf.shape(scores)[0], 1])
        return {contract.CLASSIFY_OUTPUT_CLASSES: classes, contract.CLASSIFY_OUTPUT_SCORES: scores}

    signatures = {contract.SIGNATURE_IMAGE_BYTES: image_bytes, contract.SIGNATURE_TF_EXAMPLE: tf_example}
    if broken != "missing":
        signatures[contract.SIGNATURE_CLASSIFY] = classify
    tf.saved_model.save(module, str(path), signatures=signatures)
    return str(path)


def model_artifact(tmp_path, broken=None):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / f"model-{broken}")
    save_model(os.path.join(model.uri, "Format-Serving"), broken)
    return model


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """An ExampleGen-style Examples artifact: gzip TFRecords of real JPEG tf.Examples in Split-eval."""
    artifact = standard_artifacts.Examples()
    artifact.uri = str(tmp_path_factory.mktemp("examples"))
    artifact.split_names = artifact_utils.encode_split_names([SPLIT])
    split_dir = os.path.join(artifact.uri, f"Split-{SPLIT}")
    os.makedirs(split_dir)
    with tf.io.TFRecordWriter(os.path.join(split_dir, "data.gz"), options="GZIP") as writer:
        for i in range(3):
            image = encoded(halves(left=(255, 20 * i, 0), right=(0, 0, 255 - 20 * i)))
            writer.write(contract.make_example(image, i % 2).SerializeToString())
    return artifact


def validate(model, examples, tmp_path):
    blessing = standard_artifacts.InfraBlessing()
    blessing.uri = str(tmp_path / "blessing")
    os.makedirs(blessing.uri, exist_ok=True)
    infra_executor.Executor().Do({"model": [model], "examples": [examples]}, {"blessing": [blessing]},
                                 {"num_examples": 2, "timeout_seconds": 300})
    return blessing


def write_warmup(model_dir, signature):
    from tensorflow_serving.apis import prediction_log_pb2, predict_pb2

    example = contract.make_example(encoded(halves()), 0).SerializeToString()
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = signature
    request.inputs[contract.SERVING_EXAMPLES_INPUT].CopyFrom(tf.make_tensor_proto([example]))
    os.makedirs(os.path.join(model_dir, "assets.extra"))
    with tf.io.TFRecordWriter(os.path.join(model_dir, "assets.extra", "tf_serving_warmup_requests")) as writer:
        writer.write(prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request)).SerializeToString())


def test_a_healthy_model_is_blessed_after_every_signature_and_warmup_answered(tmp_path, examples):
    model = model_artifact(tmp_path)
    write_warmup(os.path.join(model.uri, "Format-Serving"), contract.SIGNATURE_TF_EXAMPLE)
    blessing = validate(model, examples, tmp_path)
    assert blessing.get_int_custom_property("blessed") == 1, blessing.get_string_custom_property("reason")
    assert os.path.isfile(os.path.join(blessing.uri, "INFRA_BLESSED"))
    assert blessing.get_string_custom_property("reason") == "3 signatures answered; 1 warm-up requests replayed"


def test_a_model_missing_a_signature_is_not_blessed_and_the_reason_says_why(tmp_path, examples):
    """(A signature that raises: test_in_a_dag_a_broken_model_stops_at_infra_validation.)"""
    reason = f"signatures ['{contract.SIGNATURE_CLASSIFY}'] are missing"
    blessing = validate(model_artifact(tmp_path, "missing"), examples, tmp_path)
    assert blessing.get_int_custom_property("blessed") == 0
    assert blessing.get_string_custom_property("reason").startswith(reason)
    with open(os.path.join(blessing.uri, "INFRA_NOT_BLESSED")) as f:
        assert f.read().startswith(reason)


def test_a_model_that_dies_in_the_serving_process_is_not_blessed(tmp_path):
    result = infra_executor.run_probe(str(tmp_path / "no_model_here"), [encoded(halves())], timeout_seconds=300)
    assert result["ok"] is False and result["reason"].startswith("the SavedModel does not load")


def test_the_probe_imports_only_tensorflow_and_runs_isolated():
    """No snout (or TFT) in the serving process: the model must stand on TensorFlow alone."""
    tree = ast.parse(open(infra_executor.PROBE).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"argparse", "json", "os", "sys", "tensorflow", "tensorflow_serving"}


def _blessing(tmp_path, kind, name, blessed):
    artifact = kind()
    artifact.uri = str(tmp_path / name)
    os.makedirs(artifact.uri)
    artifact.set_int_custom_property("blessed", int(blessed))
    return artifact


@pytest.mark.parametrize("model_blessed, infra_blessed, pushed", [(True, True, True), (True, False, False),
                                                                   (False, True, False)])
def test_the_pusher_needs_both_blessings(tmp_path, model_blessed, infra_blessed, pushed):
    model = model_artifact(tmp_path)
    push = standard_artifacts.PushedModel()
    push.uri = str(tmp_path / "push")
    serving = tmp_path / "serving" / "snout"
    destination = tfx.proto.PushDestination(filesystem=tfx.proto.PushDestination.Filesystem(
        base_directory=str(serving)))
    from tfx.utils import proto_utils

    IdempotentPusherExecutor().Do(
        {"model": [model], "model_blessing": [_blessing(tmp_path, standard_artifacts.ModelBlessing, "mb", model_blessed)],
         "infra_blessing": [_blessing(tmp_path, standard_artifacts.InfraBlessing, "ib", infra_blessed)]},
        {"pushed_model": [push]}, {"push_destination": proto_utils.proto_to_json(destination), "custom_config": None})
    assert push.get_int_custom_property("pushed") == int(pushed)
    assert (serving.is_dir() and len(os.listdir(serving)) == 1) == pushed


def test_in_a_dag_a_broken_model_stops_at_infra_validation(tmp_path, examples):
    """Importer -> SavedModelInfraValidator -> IdempotentPusher under LocalDagRunner, the Evaluator's
    blessing given as blessed: the model is stopped by infra validation alone."""
    from tfx.orchestration import metadata

    model = model_artifact(tmp_path, "raises")
    model_blessing = _blessing(tmp_path, standard_artifacts.ModelBlessing, "evaluator_blessing", True)
    model_in = tfx.dsl.Importer(source_uri=model.uri, artifact_type=standard_artifacts.Model).with_id("model")
    examples_in = tfx.dsl.Importer(source_uri=examples.uri, artifact_type=standard_artifacts.Examples,
                                   properties={"split_names": examples.split_names}).with_id("examples")
    blessing_in = tfx.dsl.Importer(source_uri=model_blessing.uri, artifact_type=standard_artifacts.ModelBlessing,
                                   custom_properties={"blessed": 1}).with_id("model_blessing")
    infra = SavedModelInfraValidator(model_in.outputs["result"], examples_in.outputs["result"], num_examples=2)
    serving = tmp_path / "serving" / "snout"
    pusher = IdempotentPusher(
        model=model_in.outputs["result"], model_blessing=blessing_in.outputs["result"],
        infra_blessing=infra.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(filesystem=tfx.proto.PushDestination.Filesystem(
            base_directory=str(serving))))
    store = metadata.sqlite_metadata_connection_config(str(tmp_path / "mlmd.sqlite"))
    tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
        pipeline_name="infra", pipeline_root=str(tmp_path / "root"), metadata_connection_config=store,
        components=[model_in, examples_in, blessing_in, infra, pusher]))

    with metadata.Metadata(store) as m:
        [blessing] = m.store.get_artifacts_by_type(standard_artifacts.InfraBlessing.TYPE_NAME)
        [pushed] = m.store.get_artifacts_by_type(standard_artifacts.PushedModel.TYPE_NAME)
    assert blessing.custom_properties["blessed"].int_value == 0
    assert blessing.custom_properties["reason"].string_value.startswith(
        f"signature {contract.SIGNATURE_IMAGE_BYTES} raised InvalidArgumentError: assertion failed: "
        "[serving_default broken on purpose]")
    assert pushed.custom_properties["pushed"].int_value == 0 and not serving.exists()
