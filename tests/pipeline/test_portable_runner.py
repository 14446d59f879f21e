"""The `portable` Beam profile for real: `snout ingest` and `snout predict --model` through Beam's
in-process job service (`--beam-job-endpoint embed`) to an EXTERNAL worker pool this module starts
and stops (tests/fixtures/beam_worker_pool.py). Each job must start SDK workers in the pool: the
images are decoded and the model is called there, not in this process.
"""

from __future__ import annotations

import csv
import os

import pytest

import contract
from tests.fixtures.beam_worker_pool import WorkerPool
from tests.fixtures.dataset_files import assert_same_dataset, ingest_on_direct_and
from tests.fixtures.serving import BLUE, RED, fixture_model_template, install_version, solid_image

pytestmark = pytest.mark.e2e  # SDK worker processes start per job (TensorFlow in each): tens of seconds


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    pool = WorkerPool(str(tmp_path_factory.mktemp("pool") / "worker_pool.log"))
    yield pool
    pool.stop()


def test_ingest_through_the_job_service_writes_what_the_direct_runner_writes(pool, tmp_path):
    before = pool.workers_started()
    direct, portable = ingest_on_direct_and(tmp_path, *pool.beam_flags())
    assert pool.workers_started() > before, "the job never reached the worker pool:\n" + pool.log_tail()
    assert_same_dataset(direct, portable)


def test_predict_through_the_job_service_writes_every_row(pool, tmp_path, capsys):
    from cli.main import main

    serving_dir = str(tmp_path / "serving")
    version_dir = install_version(fixture_model_template(), serving_dir, "snout", 1)
    contract.write_vocabulary(os.path.join(version_dir, "assets.extra"), ["blue", "red"])
    photos = tmp_path / "photos"
    photos.mkdir()
    expected = {}
    for i in range(6):
        color, name = (RED, "red") if i % 2 else (BLUE, "blue")
        (photos / f"p{i}.jpg").write_bytes(solid_image(color))
        expected[f"p{i}"] = name
    out = tmp_path / "predictions.csv"
    before = pool.workers_started()
    code = main(["predict", "--model", os.path.join(serving_dir, "snout"), "--input-dir", str(photos),
                 "--out", str(out), "--batch-size", "4", *pool.beam_flags()])
    assert code == 0, pool.log_tail()
    assert "--runner=PortableRunner" in capsys.readouterr().out
    assert pool.workers_started() > before, "the job never reached the worker pool:\n" + pool.log_tail()
    with open(out, newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["id", "label", "confidence", "blue", "red"]
    assert {row[0]: row[1] for row in rows} == expected
