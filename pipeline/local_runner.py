"""Fixed costs TFX pays on every local run for work that only a remote runner needs.

TFX 1.16 (pinned) does three things per run that, under LocalDagRunner with Beam's DirectRunner,
produce nothing a component uses:

1. Every Beam component's executor, when no Beam arg names its dependencies, copies TFX's whole
   installed source tree and builds an sdist of it (`dependency_utils.build_ephemeral_package`)
   to pass as `--extra_package` to remote Beam workers. The DirectRunner stages nothing: its
   workers are this interpreter (in-process modes) or `sys.executable` subprocesses with the same
   site-packages. Profiled: seconds per Beam component, on every first run and rerun. The same holds
   for Beam's portable runner when its SDK workers share this environment: LOOPBACK (this process)
   or an EXTERNAL worker pool on this machine (started with this project's python; its workers
   install nothing staged). Where TFX still builds the sdist (remote workers), its temporary
   folder (49 MB, which TFX never removes) is removed when the run ends.
2. Each run builds the user-code wheel of Transform/Tuner/Trainer anew (`setup.py bdist_wheel`),
   though the wheel is named by a hash of trainer/'s sources and the same file is already in
   `<pipeline_root>/_wheels`. A wheel already built for the same sources is used as it is: the
   same path, so the same cache keys.
3. Each executed user-code component `pip install --target`s that wheel; a pure-Python wheel
   is a zip of the modules, so it is unpacked into the same folder instead (no pip start-up).

`fast_local_runs()` applies the three around one LocalDagRunner run; remote runners and
Kubeflow (which runs TFX's own entrypoint in each pod) are untouched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import zipfile
from typing import List, Sequence

DIRECT_RUNNERS = ("", "directrunner", "direct", "bundlebaseddirectrunner", "switchingdirectrunner")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
USER_CODE_WHEEL = re.compile(r"tfx_user_code_[^/]*-py3-none-any\.whl$")


def _flag(beam_pipeline_args: Sequence[str], name: str) -> str:
    """The last value of --name=value among the args ("" if absent)."""
    value = ""
    for arg in beam_pipeline_args:
        if str(arg).startswith(f"--{name}="):
            value = str(arg).split("=", 1)[1]
    return value


def runs_on_direct_runner(beam_pipeline_args: Sequence[str]) -> bool:
    return _flag(beam_pipeline_args, "runner").lower() in DIRECT_RUNNERS


def workers_share_this_environment(beam_pipeline_args: Sequence[str]) -> bool:
    """Beam's workers import this process's own TFX: the DirectRunner, or a portable runner's LOOPBACK
    workers or EXTERNAL worker pool on this machine (README: started with the project's python)."""
    if runs_on_direct_runner(beam_pipeline_args):
        return True
    environment = _flag(beam_pipeline_args, "environment_type").upper()
    host = _flag(beam_pipeline_args, "environment_config").rsplit(":", 1)[0].lower()
    return environment == "LOOPBACK" or (environment == "EXTERNAL" and host in LOCAL_HOSTS)


def _sdist_folder(sdist_file: str) -> str:
    """The mkdtemp() folder of TFX's ephemeral sdist (<tmp>/build/tfx/dist/tfx_ephemeral-*.tar.gz), or "" if
    the path is not laid out so (then nothing is removed)."""
    dist = os.path.dirname(sdist_file)
    if not dist.endswith(os.path.join("", "build", "tfx", "dist")):
        return ""
    return os.path.dirname(os.path.dirname(os.path.dirname(dist)))


def _built_wheel(instance_name: str, module_path: str, pipeline_root: str):
    """(wheel path, user module key) of a wheel built earlier from the same sources, or None."""
    from tfx.components.util import udf_utils

    module_dir, module_file = os.path.split(os.path.abspath(module_path))
    sources = [name for name in os.listdir(module_dir) if name.endswith(".py")]
    version = udf_utils._get_version_hash(module_dir, sources)  # noqa: SLF001 - TFX's own naming
    package = re.sub(r"[-_.]+", "_", f"tfx-user-code-{instance_name}").lower()
    found = glob.glob(os.path.join(glob.escape(pipeline_root), "_wheels", f"{package}-0.0+{version}-py3-none-any.whl"))
    if len(found) != 1 or not os.path.getsize(found[0]):
        return None
    return found[0], f"{module_file[:-len('.py')]}@{found[0]}"


def _unpack_wheel(wheel: str, target: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


@contextlib.contextmanager
def fast_local_runs():
    from tfx.components.util import udf_utils
    from tfx.utils import dependency_utils

    original_flags = dependency_utils.make_beam_dependency_flags
    original_package = udf_utils.package_user_module_file
    original_install = udf_utils.install_to_temp_directory
    original_sdist = dependency_utils.build_ephemeral_package
    sdists: List[str] = []

    def beam_flags(beam_pipeline_args: List[str]) -> List[str]:
        if workers_share_this_environment(beam_pipeline_args):
            return list(beam_pipeline_args)
        return original_flags(beam_pipeline_args)

    def sdist() -> str:
        sdists.append(original_sdist())
        return sdists[-1]

    def package(instance_name: str, module_path: str, pipeline_root: str):
        if "://" not in pipeline_root:
            built = _built_wheel(instance_name, module_path, pipeline_root)
            if built:
                return built
        return original_package(instance_name, module_path, pipeline_root)

    def install(pip_dependency: str, temp_dir=None) -> str:
        if USER_CODE_WHEEL.search(pip_dependency) and os.path.isfile(pip_dependency) and temp_dir:
            return _unpack_wheel(pip_dependency, temp_dir)
        return original_install(pip_dependency, temp_dir=temp_dir)

    dependency_utils.make_beam_dependency_flags = beam_flags
    dependency_utils.build_ephemeral_package = sdist
    udf_utils.package_user_module_file = package
    udf_utils.install_to_temp_directory = install
    try:
        yield
    finally:
        dependency_utils.make_beam_dependency_flags = original_flags
        dependency_utils.build_ephemeral_package = original_sdist
        udf_utils.package_user_module_file = original_package
        udf_utils.install_to_temp_directory = original_install
        for folder in filter(None, map(_sdist_folder, sdists)):  # staged when each Beam job was submitted
            shutil.rmtree(folder, ignore_errors=True)
