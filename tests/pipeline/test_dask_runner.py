"""`snout ingest --beam-profile dask` on a dask.distributed cluster on loopback (a scheduler and two
worker processes this module starts and stops): the same records and lists as the DirectRunner,
with the images checked in the workers. (`snout predict`, `run` and `compile-kubeflow` refuse the
profile: tests/pipeline/test_beam_options.py; why: README, Beam profiles.)"""

from __future__ import annotations

import pytest

from tests.fixtures.dataset_files import assert_same_dataset, ingest_on_direct_and

pytest.importorskip("distributed", reason="dask.distributed is not installed (setup.sh installs it)")
pytestmark = pytest.mark.e2e  # worker processes import TensorFlow: tens of seconds


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from tests.fixtures.dask_cluster import DaskCluster

    cluster = DaskCluster(str(tmp_path_factory.mktemp("dask")), workers=2)
    yield cluster
    cluster.stop()


def test_ingest_on_dask_writes_what_the_direct_runner_writes(cluster, tmp_path):
    assert cluster.workers_that_imported("ingest.beam_pipeline") == 0
    direct, dask = ingest_on_direct_and(tmp_path, "--beam-profile", "dask", "--dask-address", cluster.address,
                                        "--beam-arg=--dask_npartitions=2")
    assert cluster.workers_that_imported("ingest.beam_pipeline") >= 1  # the DoFn ran there
    assert_same_dataset(direct, dask)
