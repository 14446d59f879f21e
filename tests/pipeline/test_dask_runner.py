"""`snout ingest --beam-profile dask` on a dask.distributed cluster on loopback (a scheduler and two
worker processes this module starts and stops): the same records and lists as the DirectRunner,
with the images checked in the workers. (`snout predict`, `run` and `compile-kubeflow` refuse the
profile: tests/pipeline/test_beam_options.py; why: README, Beam profiles.)"""

from __future__ import annotations

import pytest

from tests.fixtures import ingest as fx
from tests.fixtures.dataset_files import listings, records_by_split

pytest.importorskip("distributed", reason="dask.distributed is not installed (setup.sh installs it)")
pytestmark = pytest.mark.e2e  # worker processes import TensorFlow: tens of seconds


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from tests.fixtures.dask_cluster import DaskCluster

    cluster = DaskCluster(str(tmp_path_factory.mktemp("dask")), workers=2)
    yield cluster
    cluster.stop()


def test_ingest_on_dask_writes_what_the_direct_runner_writes(cluster, tmp_path):
    from cli.main import main

    source = str(tmp_path / "photos")
    fx.make_class_folders(source)
    common = ["ingest", source, "--max-pixels", str(fx.MAX_PIXELS), "--no-progress"]
    direct, dask = str(tmp_path / "direct"), str(tmp_path / "dask")
    assert main([*common, "--out", direct]) == 0
    assert cluster.workers_that_imported("ingest.beam_pipeline") == 0
    assert main([*common, "--out", dask, "--beam-profile", "dask", "--dask-address", cluster.address,
                 "--beam-arg=--dask_npartitions=2"]) == 0
    assert cluster.workers_that_imported("ingest.beam_pipeline") >= 1  # the DoFn ran there

    records = records_by_split(dask)
    assert sum(len(rows) for rows in records.values()) == 12 + 10 + len(fx.SPECIAL_SIZES)
    assert records == records_by_split(direct)
    assert listings(dask) == listings(direct)
