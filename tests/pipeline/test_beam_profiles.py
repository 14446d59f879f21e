"""Beam pipeline-args profiles (pipeline/beam_profiles.py): no Beam, no TF."""

import os

import pytest

from pipeline.beam_profiles import NO_PRISM_ARG, PROFILES, beam_args, profile_names
from pipeline.config import SnoutConfig
from contract.errors import UserError

IMAGE = "eu.gcr.io/proj/snout:0.1.0"


def test_profiles_are_named_and_documented():
    assert profile_names() == ["local", "dataflow", "flink", "spark", "portable", "dask"]
    for profile in PROFILES.values():
        assert profile.summary and profile.needs


def test_local_is_direct_runner_multiprocessing_one_worker_per_core():
    assert beam_args("local") == ["--direct_running_mode=multi_processing",
                                  f"--direct_num_workers={os.cpu_count() or 1}", NO_PRISM_ARG]
    assert beam_args("local", workers=0, mode="multi_threading") == [
        "--direct_running_mode=multi_threading", "--direct_num_workers=0", NO_PRISM_ARG]


def test_snout_run_default_is_unchanged():
    """What `snout run` used before the shared option set: multi-processing, one worker per core here."""
    assert SnoutConfig().beam_pipeline_args() == ["--direct_running_mode=multi_processing",
                                                  f"--direct_num_workers={os.cpu_count() or 1}", NO_PRISM_ARG]


def test_dataflow():
    args = beam_args("dataflow", project="proj", region="europe-west1", temp_location="gs://b/tmp", image=IMAGE,
                     max_num_workers=8)
    assert args[:6] == ["--runner=DataflowRunner", "--project=proj", "--region=europe-west1",
                        "--temp_location=gs://b/tmp", "--experiments=use_runner_v2",
                        f"--sdk_container_image={IMAGE}"]
    assert "--max_num_workers=8" in args


def test_dataflow_names_every_missing_parameter():
    with pytest.raises(UserError) as e:
        beam_args("dataflow", project="proj", region=None)
    message = str(e.value)
    for name in ("region", "temp_location", "image", "--beam-region", "--beam-temp-location", "--beam-image"):
        assert name in message
    assert "project" not in message.split("needs")[1].split("(")[0]


def test_dataflow_temp_location_must_be_gcs():
    with pytest.raises(UserError, match="gs://"):
        beam_args("dataflow", project="p", region="r", temp_location="/tmp/x", image=IMAGE)


@pytest.mark.parametrize("profile", ["flink", "spark"])
def test_portable_runners_docker_environment_runs_the_snout_image(profile):
    args = beam_args(profile, job_endpoint="jobserver:8099", image=IMAGE)
    assert args == ["--runner=PortableRunner", "--job_endpoint=jobserver:8099", "--environment_type=DOCKER",
                    f"--environment_config={IMAGE}"]


def test_flink_external_worker_pool():
    args = beam_args("flink", job_endpoint="flink-js:8099", environment_type="external",
                     environment_config="localhost:50000", parallelism=4)
    assert "--environment_type=EXTERNAL" in args and "--environment_config=localhost:50000" in args
    assert "--parallelism=4" in args
    with pytest.raises(UserError, match="environment_config"):
        beam_args("flink", job_endpoint="flink-js:8099", environment_type="EXTERNAL")


@pytest.mark.parametrize("profile", ["flink", "spark"])
def test_portable_runners_need_a_job_endpoint(profile):
    with pytest.raises(UserError, match="job_endpoint.*--beam-job-endpoint"):
        beam_args(profile, image=IMAGE)


def test_unknown_profile_and_parameters_are_user_errors():
    with pytest.raises(UserError, match="local, dataflow, flink, spark, portable, dask"):
        beam_args("samza")
    with pytest.raises(UserError, match="job_endpoint"):
        beam_args("local", job_endpoint="x:1")


def test_extra_args_are_appended_and_checked():
    assert beam_args("local", workers=2, extra_args=["--foo=1"])[-1] == "--foo=1"
    with pytest.raises(UserError, match="--name=value"):
        beam_args("local", extra_args=["foo"])


def test_portable_to_a_job_service_with_an_external_worker_pool():
    args = beam_args("portable", job_endpoint="embed", environment_type="EXTERNAL",
                     environment_config="localhost:50000")
    assert args == ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=EXTERNAL",
                    "--environment_config=localhost:50000"]
    assert beam_args("portable", job_endpoint="embed", environment_type="LOOPBACK") == [
        "--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]
    with pytest.raises(UserError, match="--beam-image"):
        beam_args("portable", job_endpoint="js:8099")  # DOCKER (the default) needs the worker image


def test_dask_needs_its_scheduler():
    assert beam_args("dask", dask_address="127.0.0.1:8786") == [
        "--runner=apache_beam.runners.dask.dask_runner.DaskRunner", "--dask_client_address=127.0.0.1:8786"]
    with pytest.raises(UserError, match="--dask-address"):
        beam_args("dask")
def test_local_auto_runs_beam_in_process_below_the_crossover_and_in_processes_above(tmp_path):
    from pipeline.beam_profiles import IN_PROCESS_MAX_BYTES, auto_mode, record_bytes

    small = ["--direct_running_mode=in_memory", "--direct_num_workers=1", NO_PRISM_ARG]  # one thread in-process
    assert beam_args("local", mode="auto", data_bytes=IN_PROCESS_MAX_BYTES - 1) == small
    assert beam_args("local", mode="auto", workers=2, data_bytes=1)[1] == "--direct_num_workers=2"  # as asked
    assert beam_args("local", mode="in_memory", data_bytes=1)[1] == f"--direct_num_workers={os.cpu_count() or 1}"
    assert auto_mode(IN_PROCESS_MAX_BYTES) == auto_mode(None) == "multi_processing"  # unknown size: processes
    assert beam_args("local", mode="multi_processing", data_bytes=1)[0] == "--direct_running_mode=multi_processing"
    for split, size in (("train", 3000), ("test", 500)):
        (tmp_path / split).mkdir()
        (tmp_path / split / "data-00000-of-00001.tfrecord.gz").write_bytes(b"x" * size)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"y" * 10_000)  # not a record: not counted
    assert record_bytes(str(tmp_path)) == 3500
    assert record_bytes("gs://bucket/data") is None
    assert SnoutConfig().beam_pipeline_args(str(tmp_path)) == small  # snout run's default: auto
