"""pipeline/local_runner.py: what TFX pays on every local run for remote runners, skipped locally
(the e2e tests run every component through it: tests/pipeline/test_pipeline_e2e.py)."""

import os
import zipfile

from pipeline import local_runner


PORTABLE = ["--runner=PortableRunner", "--job_endpoint=embed"]


def test_only_workers_in_this_environment_skip_tfx_s_ephemeral_package():
    from tfx.utils import dependency_utils

    share = local_runner.workers_share_this_environment
    assert share(["--direct_running_mode=in_memory"]) and share(["--runner=DirectRunner"])
    assert share(PORTABLE + ["--environment_type=LOOPBACK"])
    assert share(PORTABLE + ["--environment_type=EXTERNAL", "--environment_config=localhost:50000"])
    assert not share(PORTABLE + ["--environment_type=EXTERNAL", "--environment_config=beam-pool.svc:50000"])
    assert not share(PORTABLE + ["--environment_type=DOCKER", "--environment_config=snout:0.1.0"])
    assert not share(["--runner=DataflowRunner", "--project=p"])
    with local_runner.fast_local_runs():
        args = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
        assert dependency_utils.make_beam_dependency_flags(args) == args  # no --extra_package built
    assert dependency_utils.make_beam_dependency_flags.__module__ == dependency_utils.__name__  # restored


def test_an_ephemeral_package_tfx_builds_for_remote_workers_is_removed_when_the_run_ends():
    from tfx.utils import dependency_utils

    args = PORTABLE + ["--environment_type=DOCKER", "--environment_config=snout:0.1.0"]
    with local_runner.fast_local_runs():
        added = dependency_utils.make_beam_dependency_flags(args)[len(args):]
        assert len(added) == 1 and added[0].startswith("--extra_package=")
        sdist = added[0].split("=", 1)[1]
        assert os.path.isfile(sdist)  # staged at job submission, during the run
    folder = local_runner._sdist_folder(sdist)
    assert folder and sdist.startswith(folder) and not os.path.exists(folder)
    assert dependency_utils.build_ephemeral_package.__module__ == dependency_utils.__name__  # restored


def _module_dir(tmp_path):
    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / "unpack_probe_module.py").write_text("def run_fn(args):\n    return 1\n")
    (folder / "unpack_probe_helper.py").write_text("X = 2\n")
    return folder


def test_a_wheel_built_from_the_same_sources_is_reused_and_a_changed_source_builds_anew(tmp_path):
    from tfx.components.util import udf_utils

    module = str(_module_dir(tmp_path) / "unpack_probe_module.py")
    root = str(tmp_path / "root")
    with local_runner.fast_local_runs():
        wheel, key = udf_utils.package_user_module_file("Trainer", module, root)  # built: none yet
        mtime = os.path.getmtime(wheel)
        assert udf_utils.package_user_module_file("Trainer", module, root) == (wheel, key)
        assert os.path.getmtime(wheel) == mtime  # not rebuilt
        assert key == f"unpack_probe_module@{wheel}"
        (tmp_path / "user_code" / "unpack_probe_helper.py").write_text("X = 3\n")
        changed, _ = udf_utils.package_user_module_file("Trainer", module, root)
    assert changed != wheel and os.path.isfile(changed)


def test_the_user_code_wheel_is_unpacked_as_pip_would_install_it(tmp_path):
    from tfx.components.util import udf_utils

    module = str(_module_dir(tmp_path) / "unpack_probe_module.py")
    with local_runner.fast_local_runs():
        wheel, key = udf_utils.package_user_module_file("Transform", module, str(tmp_path / "root"))
        with udf_utils.TempPipInstallContext([wheel]) as installed:
            target = installed.temp_directory
            assert sorted(n for n in os.listdir(target) if n.endswith(".py")) == ["unpack_probe_helper.py",
                                                                                 "unpack_probe_module.py"]
            import importlib
            import sys

            try:
                assert importlib.import_module("unpack_probe_module").run_fn(None) == 1
            finally:
                sys.modules.pop("unpack_probe_module", None)
    with zipfile.ZipFile(wheel) as archive:
        assert {"unpack_probe_module.py", "unpack_probe_helper.py"} <= set(archive.namelist())
