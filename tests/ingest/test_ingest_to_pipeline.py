"""`snout ingest` output is what `snout run --data` takes: same layout, same vocabulary, DAG builds on it."""

import fnmatch
import os

import contract
from ingest import ingest
import sample_data
from pipeline.config import SnoutConfig
from cli.run import prepare_data


def test_ingested_photos_feed_the_pipeline(tmp_path):
    photos_root = tmp_path / "generated"
    sample_data.generate(str(photos_root), images_per_class=12)
    out = str(tmp_path / "ingested")
    summary = ingest(out, str(photos_root / "photos"))
    config = SnoutConfig(data=out, workspace=str(tmp_path / "ws"))
    data_dir, class_names, _ = prepare_data(config)
    assert class_names == sample_data.CLASS_NAMES
    for split in (contract.TRAIN_SPLIT, contract.VALIDATION_SPLIT, contract.TEST_SPLIT):
        files = contract.split_files(data_dir, split)
        # The file pattern ImportExampleGen is given in pipeline/dag.py matches ingest's shards.
        assert files and all(fnmatch.fnmatch(os.path.basename(f), contract.RECORD_PATTERN) for f in files)
        assert sum(summary["counts"][split].values()) >= len(sample_data.CLASS_NAMES)
    assert summary["totals"]["all"] == 24

    from pipeline.dag import create_pipeline

    pipeline = create_pipeline(config, data_dir, class_names, "ingested")
    assert pipeline.components[0].exec_properties["input_base"] == data_dir
