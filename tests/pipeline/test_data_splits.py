"""Three splits with three jobs, from every kind of dataset; the dataset's schema per workspace;
and a DAG in which Transform waits for the ExampleValidator that can stop the run."""

import os
import re

import pytest

import trainer.keras_compat  # noqa: F401
import tensorflow as tf

import contract
import sample_data
from cli.run import prepare_data, stage_schema
from contract.errors import UserError
from pipeline import legacy_splits
from pipeline.config import SnoutConfig

SPLITS = (contract.TRAIN_SPLIT, contract.VALIDATION_SPLIT, contract.TEST_SPLIT)


def _write(path, examples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression_type="GZIP")) as writer:
        for example in examples:
            writer.write(example.SerializeToString())


def _read(files):
    return [tf.train.Example.FromString(raw.numpy()) for path in files
            for raw in tf.data.TFRecordDataset(path, compression_type="GZIP")]


def _legacy_dataset(root, eval_examples, test=False):
    contract.write_vocabulary(str(root), ["cat", "dog"])
    _write(str(root / "train" / f"a{contract.RECORD_SUFFIX}"), [contract.make_example(b"t%d" % i, i % 2) for i in range(4)])
    _write(str(root / "eval" / f"a{contract.RECORD_SUFFIX}"), eval_examples)
    if test:
        _write(str(root / "test" / f"a{contract.RECORD_SUFFIX}"), [contract.make_example(b"x", 0)])
    return str(root)


def test_sample_set_has_three_disjoint_splits_in_photo_order(tmp_path):
    summary = sample_data.generate(str(tmp_path), images_per_class=10)
    counts = sample_data.split_counts(10)
    assert counts == {contract.TEST_SPLIT: 2, contract.VALIDATION_SPLIT: 2, contract.TRAIN_SPLIT: 6}
    images = {}
    for split in SPLITS:
        examples = _read(contract.split_files(str(tmp_path), split))
        assert summary["counts"][split] == {"cat": counts[split], "dog": counts[split]}
        assert len(examples) == 2 * counts[split]
        images[split] = {e.features.feature[contract.IMAGE_KEY].bytes_list.value[0] for e in examples}
    assert not (images["train"] & images["validation"]) and not (images["validation"] & images["test"])
    first_cat = open(sample_data.sample_photos(str(tmp_path), "cat")[0], "rb").read()
    assert first_cat in images[contract.TEST_SPLIT]  # split_of: the first photos are the test split
    with pytest.raises(ValueError, match=">= 3 images"):
        sample_data.split_counts(2)


def test_legacy_eval_is_carved_per_class_by_image_and_the_view_is_reused(tmp_path, capsys):
    duplicate = contract.make_example(b"same photo", 0)
    eval_examples = [contract.make_example(b"c%d" % i, 0) for i in range(6)]
    eval_examples += [contract.make_example(b"d%d" % i, 1) for i in range(4)] + [duplicate, duplicate]
    data = _legacy_dataset(tmp_path / "old", eval_examples)
    config = SnoutConfig(data=data, workspace=str(tmp_path / "ws"))
    data_dir, classes, _ = prepare_data(config)
    assert classes == ["cat", "dog"] and data_dir.startswith(os.path.abspath(config.workspace))
    line = capsys.readouterr().out
    counts = re.search(r"validation (\d+), test (\d+) examples", line)
    assert "old train/ + eval/ layout" in line and int(counts[1]) + int(counts[2]) == len(eval_examples)
    per_split = {split: _read(contract.split_files(data_dir, split)) for split in SPLITS}
    assert len(per_split["train"]) == 4  # train is the original, linked
    labels = {s: sorted(e.features.feature["label"].int64_list.value[0] for e in per_split[s]) for s in SPLITS[1:]}
    assert labels["validation"].count(1) == labels["test"].count(1) == 2  # halves per class
    images = {s: [e.features.feature["image"].bytes_list.value[0] for e in per_split[s]] for s in SPLITS[1:]}
    assert sorted(images["validation"] + images["test"]) == sorted(
        e.features.feature["image"].bytes_list.value[0] for e in eval_examples)  # nothing lost
    assert images["validation"].count(b"same photo") in (0, 2)  # identical images on one side
    mtimes = {f: os.stat(f).st_mtime_ns for s in SPLITS for f in contract.split_files(data_dir, s)}
    assert prepare_data(config)[0] == data_dir  # same view, files untouched: the pipeline cache holds
    assert mtimes == {f: os.stat(f).st_mtime_ns for s in SPLITS for f in contract.split_files(data_dir, s)}


def test_legacy_eval_and_test_become_validation_and_test(tmp_path):
    data = _legacy_dataset(tmp_path / "old", [contract.make_example(b"e", 1)], test=True)
    view, counts, carved = legacy_splits.three_split_view(data, str(tmp_path / "views"))
    assert not carved and counts == {contract.VALIDATION_SPLIT: 1, contract.TEST_SPLIT: 1}
    assert os.path.realpath(contract.split_files(view, contract.VALIDATION_SPLIT)[0]) == os.path.realpath(
        contract.split_files(data, contract.EVAL_SPLIT)[0])


def test_a_dataset_without_validation_or_test_is_one_line(tmp_path):
    contract.write_vocabulary(str(tmp_path), ["cat", "dog"])
    _write(str(tmp_path / "train" / f"a{contract.RECORD_SUFFIX}"), [contract.make_example(b"t", 0)])
    _write(str(tmp_path / "test" / f"a{contract.RECORD_SUFFIX}"), [contract.make_example(b"t", 0)])
    with pytest.raises(UserError, match="no .* files in validation/"):
        prepare_data(SnoutConfig(data=str(tmp_path), workspace=str(tmp_path / "ws")))


def test_first_run_writes_the_schema_later_runs_check_labels_against_it(tmp_path):
    from components.data_validation import read_schema, schema_class_names

    config = SnoutConfig(workspace=str(tmp_path / "ws"))
    staged = stage_schema(config, ["cat", "dog"])
    stored = os.path.join(config.workspace, "schema", "schema.pbtxt")
    assert schema_class_names(read_schema(stored)) == ["cat", "dog"]
    assert stage_schema(config, ["cat", "dog"]) == staged  # same content, same path: ImportSchemaGen cached
    with pytest.raises(UserError, match=r"unknown class\(es\) owl; to adopt the new class list, delete"):
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
    assert all(f'"name": "{s}"' in splits and f'"pattern": "{s}/{contract.RECORD_PATTERN}"' in splits for s in SPLITS)
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
