"""The one Beam option set (pipeline/beam_options.py) as the four commands that run Beam parse it."""

import os

import pytest

from cli.main import build_parser
from contract.errors import UserError
from pipeline import beam_profiles
from pipeline.beam_options import BeamOptions

PORTABLE = ["--beam-profile", "portable", "--beam-job-endpoint", "embed", "--beam-environment-type", "EXTERNAL",
            "--beam-environment-config", "localhost:50000", "--beam-arg=--sdk_worker_parallelism=2"]
PORTABLE_ARGS = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=EXTERNAL",
                 "--environment_config=localhost:50000", "--sdk_worker_parallelism=2"]
COMMANDS = {
    "run": ["run"],
    "ingest": ["ingest", "photos", "--out", "data"],
    "predict": ["predict", "--model", "m", "photo.jpg"],
    "compile-kubeflow": ["compile-kubeflow", "--image", "img", "--pipeline-root", "gs://b/r", "--data", "gs://b/d"],
}


def _parse(command, *beam):
    return build_parser().parse_args([*COMMANDS[command], *beam])


def test_one_parameter_field_per_profile_parameter():
    every = {name for profile in beam_profiles.profile_names() for name in beam_profiles.parameters_of(profile)}
    assert set(BeamOptions.parameter_names()) == every - set(beam_profiles.MEASURED_PARAMETERS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_beam_command_takes_the_same_flags(command):
    options = BeamOptions.from_args(_parse(command, *PORTABLE))
    assert options == BeamOptions(profile="portable", job_endpoint="embed", environment_type="EXTERNAL",
                                  environment_config="localhost:50000", extra_args=("--sdk_worker_parallelism=2",))
    assert options.pipeline_args(command) == PORTABLE_ARGS
    parser_flags = {a for action in _subparser(command)._actions for a in action.option_strings if "beam" in a}
    assert parser_flags == {beam_profiles.flag(n) for n in BeamOptions.parameter_names() if n != "dask_address"} | {
        "--beam-profile", "--beam-arg"}


def _subparser(command):
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices[command]


def test_command_defaults_apply_only_to_the_local_profile():
    local = BeamOptions.from_args(_parse("predict"))
    assert local.pipeline_args("predict", mode="in_memory")[0] == "--direct_running_mode=in_memory"
    assert BeamOptions.from_args(_parse("predict", "--beam-mode", "multi_processing")).pipeline_args(
        "predict", mode="in_memory")[0] == "--direct_running_mode=multi_processing"  # given beats the default
    assert BeamOptions.from_args(_parse("predict", *PORTABLE)).pipeline_args("predict", mode="in_memory") == \
        PORTABLE_ARGS


def test_snout_run_moves_beam_workers_and_mode_into_the_option_set():
    from cli.run import config_from_args

    config = config_from_args(_parse("run", "--beam-workers", "3", "--beam-mode", "multi_threading"))
    assert config.beam == BeamOptions(workers=3, mode="multi_threading")
    assert config.beam_pipeline_args() == ["--direct_running_mode=multi_threading", "--direct_num_workers=3",
                                           beam_profiles.NO_PRISM_ARG]
    zero = config_from_args(_parse("run", "--beam-workers", "0"))
    assert zero.beam_pipeline_args()[1] == f"--direct_num_workers={os.cpu_count() or 1}"  # as before
    portable = config_from_args(_parse("run", *PORTABLE))
    assert portable.beam_pipeline_args() == PORTABLE_ARGS
    assert BeamOptions.from_config(portable.beam.to_config()) == portable.beam


def test_ingest_runs_threads_locally_and_hands_on_plain_args():
    from ingest.beam_pipeline import default_options

    args = BeamOptions.from_args(_parse("ingest")).pipeline_args("ingest", mode="multi_threading")
    assert args == ["--direct_running_mode=multi_threading", f"--direct_num_workers={os.cpu_count() or 1}",
                    beam_profiles.NO_PRISM_ARG]
    assert default_options(args).get_all_options()["direct_running_mode"] == "multi_threading"


def test_a_parameter_the_profile_does_not_take_is_a_user_error():
    with pytest.raises(UserError, match="takes no parameter.*workers"):
        BeamOptions.from_args(_parse("ingest", *PORTABLE, "--beam-workers", "2")).pipeline_args("ingest")


@pytest.mark.parametrize("command", ["run", "predict", "compile-kubeflow"])
def test_dask_runs_ingest_only_and_says_why_elsewhere(command):
    dask = BeamOptions(profile="dask", dask_address="127.0.0.1:8786")
    assert dask.pipeline_args("ingest")[0].endswith("DaskRunner")
    with pytest.raises(UserError, match="runs only `snout ingest`.*multi-output ParDo"):
        dask.pipeline_args(command)


def test_snout_run_refuses_a_bad_beam_flag_before_any_work(tmp_path, capsys):
    from cli.main import main

    workspace = tmp_path / "ws"
    assert main(["run", "--workspace", str(workspace), "--beam-profile", "dask", "--dask-address", "x:1"]) == 2
    assert "runs only `snout ingest`" in capsys.readouterr().err
    assert not workspace.exists()  # no log, no sample data


def test_the_local_profile_runs_on_the_direct_runner_not_a_downloaded_prism(caplog):
    """Beam's DirectRunner would first try Prism (fetched from GitHub at run time); snout's args skip it."""
    import logging

    import apache_beam as beam

    from ingest.beam_pipeline import default_options

    args = BeamOptions.from_args(_parse("ingest")).pipeline_args("ingest", mode="in_memory")
    with caplog.at_level(logging.INFO, logger="apache_beam.runners.direct.direct_runner"):
        with beam.Pipeline(options=default_options(args)) as pipeline:
            _ = pipeline | beam.Create([1, 2]) | beam.Map(lambda x: x + 1)
    assert "Running pipeline with PrismRunner" not in caplog.text
    with caplog.at_level(logging.INFO, logger="apache_beam.runners.direct.direct_runner"):  # the control
        with beam.Pipeline(options=default_options([a for a in args if a != beam_profiles.NO_PRISM_ARG])) as pipeline:
            _ = pipeline | beam.Create([1, 2]) | beam.Map(lambda x: x + 1)
    assert "Running pipeline with PrismRunner" in caplog.text
