"""The dataset schema and the ExampleValidator that stops a run: real TFDV statistics of small
record files, validated by the real executor against the schema snout writes from labels.txt."""

import os
import re

import pytest

import trainer.keras_compat  # noqa: F401
import tensorflow as tf

import contract
from components.data_validation import (DataRejected, build_schema, check_class_names, read_schema,
                                        schema_class_names, write_schema)
from components.data_validation.executor import Executor
from contract.errors import UserError

CLASSES = ["cat", "dog", "fox"]


def _without_image(example):
    return tf.train.Example(features=tf.train.Features(
        feature={contract.LABEL_KEY: example.features.feature[contract.LABEL_KEY]}))


def _frame(examples):
    import pandas as pd

    rows = [{key: (list(f.bytes_list.value) or list(f.int64_list.value))[0] for key, f in e.features.feature.items()}
            for e in examples]
    return pd.DataFrame(rows)


def _statistics_artifact(root, splits):
    """An ExampleStatistics artifact with Split-<name>/FeatureStats.pb computed by TFDV from examples."""
    import tensorflow_data_validation as tfdv
    from tfx.types import artifact_utils, standard_artifacts

    artifact = standard_artifacts.ExampleStatistics()
    artifact.uri = str(root / "statistics")
    artifact.split_names = artifact_utils.encode_split_names(list(splits))
    for split, examples in splits.items():
        os.makedirs(os.path.join(artifact.uri, f"Split-{split}"))
        stats = tfdv.generate_statistics_from_dataframe(_frame(examples))  # in-process, no Beam: fast
        with open(os.path.join(artifact.uri, f"Split-{split}", "FeatureStats.pb"), "wb") as f:
            f.write(stats.SerializeToString())
    return artifact


def _validate(root, splits):
    from tfx.types import standard_artifacts

    schema = standard_artifacts.Schema()
    schema.uri = str(root / "schema")
    write_schema(build_schema(CLASSES), os.path.join(schema.uri, "schema.pbtxt"))
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = str(root / "anomalies")
    Executor().Do({"statistics": [_statistics_artifact(root, splits)], "schema": [schema]},
                  {"anomalies": [anomalies]}, {"exclude_splits": "[]"})
    return anomalies.uri


def _good(n=6):
    return [contract.make_example(b"\xff\xd8 jpeg bytes %d" % i, i % len(CLASSES)) for i in range(n)]


def test_schema_carries_the_label_domain_and_class_names(tmp_path):
    schema = build_schema(CLASSES)
    label = next(f for f in schema.feature if f.name == contract.LABEL_KEY)
    assert (label.int_domain.min, label.int_domain.max) == (0, 2)
    path = str(tmp_path / "schema.pbtxt")
    write_schema(schema, path)
    assert schema_class_names(read_schema(path)) == CLASSES


def test_clean_data_passes_and_writes_its_anomalies_files(tmp_path):
    uri = _validate(tmp_path, {contract.TRAIN_SPLIT: _good(), contract.TEST_SPLIT: _good(3)})
    assert sorted(os.listdir(uri)) == [f"Split-{contract.TEST_SPLIT}", f"Split-{contract.TRAIN_SPLIT}"]


@pytest.mark.parametrize("bad, reason", [
    (contract.make_example(b"jpeg", 3), "label: Out-of-range values (Unexpectedly large value: 3.)"),
    (contract.make_example(b"jpeg", -1), "label: Out-of-range values"),
])
def test_label_out_of_range_stops_with_one_line(tmp_path, bad, reason):
    with pytest.raises(DataRejected) as caught:
        _validate(tmp_path, {contract.TRAIN_SPLIT: _good(), contract.TEST_SPLIT: _good(3) + [bad]})
    message = str(caught.value)
    assert "\n" not in message and f"split {contract.TEST_SPLIT}: {reason}" in message
    assert f"split {contract.TRAIN_SPLIT}" not in message  # only the split that broke it
    assert isinstance(caught.value, UserError)  # `snout` prints it as one line, exit code 2


def test_records_without_an_image_stop_the_run(tmp_path):
    with pytest.raises(DataRejected, match="split train: image: Column dropped"):
        _validate(tmp_path, {contract.TRAIN_SPLIT: [_without_image(e) for e in _good()],
                             contract.TEST_SPLIT: _good(3)})


def test_labels_txt_must_match_the_schemas_classes():
    schema = build_schema(CLASSES)
    check_class_names(schema, "s.pbtxt", CLASSES, "hint")  # same list: fine
    for names, what in ((CLASSES + ["owl"], "owl added"), (CLASSES[:2], "fox missing"),
                        (["dog", "cat", "fox"], "another order")):
        with pytest.raises(UserError, match=re.escape(what)):
            check_class_names(schema, "s.pbtxt", names, "hint")
