"""Three splits with three jobs; one record format; a dataset of an older snout is one line; the dataset's
schema per workspace; and a DAG in which Transform waits for the ExampleValidator that can stop the run."""

import os

import pytest

import trainer.keras_compat  # noqa: F401
import tensorflow as tf

import contract
import sample_data
from cli.run import prepare_data, stage_schema
from contract.errors import UserError
from pipeline.config import SnoutConfig


def _write(path, examples, compression=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression_type=compression)) as writer:
        for example in examples:
            writer.write(example.SerializeToString())


def _read(files):
    return [tf.train.Example.FromString(raw.numpy()) for raw in contract.record_dataset(files)]


def test_sample_set_has_three_disjoint_splits_in_photo_order_in_the_one_record_format(tmp_path):
    summary = sample_data.generate(str(tmp_path), images_per_class=10)
    counts = sample_data.split_counts(10)
    assert counts == {contract.TEST_SPLIT: 2, contract.VALIDATION_SPLIT: 2, contract.TRAIN_SPLIT: 6}
    images = {}
    for split in contract.SPLITS:
        files = contract.split_files(str(tmp_path), split)
        assert files and all(f.endswith(contract.RECORD_SUFFIX) for f in files)  # as `snout ingest` writes
        examples = _read(files)
        assert summary["counts"][split] == {"cat": counts[split], "dog": counts[split]}
        assert len(examples) == 2 * counts[split]
        images[split] = {e.features.feature[contract.IMAGE_KEY].bytes_list.value[0] for e in examples}
    assert not (images["train"] & images["validation"]) and not (images["validation"] & images["test"])
    first_cat = open(sample_data.sample_photos(str(tmp_path), "cat")[0], "rb").read()
    assert first_cat in images[contract.TEST_SPLIT]  # split_of: the first photos are the test split
    with pytest.raises(ValueError, match=">= 3 images"):
        sample_data.split_counts(2)


def test_a_dataset_of_an_older_snout_gets_one_line_asking_to_ingest_again(tmp_path, capsys):
    from cli.main import main

    contract.write_vocabulary(str(tmp_path), ["cat", "dog"])
    for split in (contract.TRAIN_SPLIT, contract.OLD_LAYOUT_EVAL_DIR):  # train/ + eval/, gzip as it was written
        _write(str(tmp_path / split / "data.tfrecord.gz"), [contract.make_example(b"t", 0)], "GZIP")
    assert main(["run", "--data", str(tmp_path), "--workspace", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"snout run: error: {tmp_path} has the train/ + eval/ layout of an older snout; run `snout ingest` "
                   "on its photos again to make train/, validation/ and test/"]
    assert not (tmp_path / "ws" / "pipeline_root").exists()


def test_a_dataset_without_validation_or_test_is_one_line_naming_both_record_kinds(tmp_path):
    contract.write_vocabulary(str(tmp_path), ["cat", "dog"])
    _write(str(tmp_path / "train" / "a.tfrecord.gz"), [contract.make_example(b"t", 0)], "GZIP")  # readers take gzip
    _write(str(tmp_path / "test" / "a.tfrecord"), [contract.make_example(b"t", 0)])
    with pytest.raises(UserError, match=r"has no \*\.tfrecord or \*\.tfrecord\.gz files in validation/ \("):
        prepare_data(SnoutConfig(data=str(tmp_path), workspace=str(tmp_path / "ws")))


def test_first_run_writes_the_schema_later_runs_check_labels_against_it(tmp_path):
    from components.data_validation import read_schema, schema_class_names

    config = SnoutConfig(workspace=str(tmp_path / "ws"))
    staged = stage_schema(config, ["cat", "dog"])
    stored = os.path.join(config.workspace, "schema", "schema.pbtxt")
    assert schema_class_names(read_schema(stored)) == ["cat", "dog"]
    assert stage_schema(config, ["cat", "dog"]) == staged  # same content, same path: ImportSchemaGen cached
    with pytest.raises(UserError, match=r"owl added; to adopt the new class list, delete"):
        stage_schema(config, ["cat", "dog", "owl"])
    os.remove(stored)  # the documented way to adopt a new class list
    assert stage_schema(config, ["cat", "dog", "owl"]) != staged
    with pytest.raises(UserError, match="no such file"):
        stage_schema(SnoutConfig(workspace=str(tmp_path / "ws"), schema=str(tmp_path / "none.pbtxt")), ["a", "b"])


def _node(pipeline, node_id):
    return next(c for c in pipeline.components if c.id == node_id)


def test_dag_reads_three_splits_and_gives_each_its_job(tmp_path):
    from pipeline.dag import create_pipeline

    config = SnoutConfig(workspace=str(tmp_path), tune=True)
    pipeline = create_pipeline(config, str(tmp_path), ["a", "b"], "d", schema_file=str(tmp_path / "s.pbtxt"))
    splits = _node(pipeline, "ImportExampleGen").exec_properties["input_config"]
    assert all(f'"name": "{s}"' in splits and f'"pattern": "{s}/{contract.RECORD_PATTERN}"' in splits
               for s in contract.SPLITS)
    for node_id in ("Tuner", "Trainer"):
        props = _node(pipeline, node_id).exec_properties
        assert '"splits": [\n    "train"\n  ]' in props["train_args"]
        assert '"splits": [\n    "validation"\n  ]' in props["eval_args"]
    assert _node(pipeline, "Evaluator").exec_properties["example_splits"] == '["test"]'
    validator = _node(pipeline, "ExampleValidator")
    assert validator in _node(pipeline, "Transform").upstream_nodes  # anomalies stop the run first
    assert {n.id for n in validator.upstream_nodes} == {"StatisticsGen", "ImportSchemaGen"}


def test_rejected_data_is_one_line_exit_2_and_nothing_pushed(tmp_path, capsys, monkeypatch):
    """The run's exit path for the validator's failure (the executor itself: tests/components)."""
    from tfx import v1 as tfx

    from cli.main import main
    from components.data_validation import DataRejected

    def rejected(runner, pipeline):
        raise DataRejected("data check failed against the dataset's schema: split test: label: Out-of-range values")

    monkeypatch.setattr(tfx.orchestration.LocalDagRunner, "run", rejected)
    workspace = tmp_path / "ws"
    assert main(["run", "--workspace", str(workspace), "--sample-images-per-class", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["snout run: error: data check failed against the dataset's schema: split test: label: "
                   "Out-of-range values"]
    assert not (workspace / "serving").exists()
