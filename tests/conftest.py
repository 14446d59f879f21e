import functools
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The project's Keras rule must hold before any test imports TensorFlow.
import trainer.keras_compat  # noqa: E402,F401

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def first_pipeline_run(tmp_path_factory):
    """The whole DAG once, on tiny generated data (shared: several minutes on 2 cores)."""
    from tests.fixtures.pipeline import run, tiny_config

    workspace = str(tmp_path_factory.mktemp("snout_workspace"))
    return run(tiny_config(workspace))


# ---- two workers (`pytest tests -n 2`, pytest-xdist): what must share a process shares one

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_RUN = "first_pipeline_run"
# Heaviest first, so the two workers start on them and finish together.
_HEAVY_FIRST = (SHARED_RUN, "tests/pipeline/test_kubeflow_local_run.py",
                "tests/pipeline/test_portable_pipeline_run.py", "tests/pipeline/test_portable_runner.py",
                "tests/pipeline/test_dask_runner.py", "tests/components/test_lite_export.py",
                "tests/components/test_evaluator_reuse.py", "tests/components/test_evaluator.py")


@functools.lru_cache(maxsize=1)
def _files_using_the_shared_run() -> frozenset:
    found = set()
    for folder, _, names in os.walk(os.path.join(REPO, "tests")):
        for name in (n for n in names if n.startswith("test_") and n.endswith(".py")):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                if SHARED_RUN in f.read():
                    found.add(os.path.relpath(os.path.join(folder, name), REPO).replace(os.sep, "/"))
    return frozenset(found)


def _group(nodeid: str) -> str:
    """The files that use the shared DAG run form one group (one run per session); every other file its own."""
    path = nodeid.split("::", 1)[0]
    return SHARED_RUN if path in _files_using_the_shared_run() else path


def pytest_xdist_make_scheduler(config, log):
    # Not xdist's loadgroup: under pytest 9 its renamed test ids no longer reach the scheduler.
    from xdist.scheduler import LoadScopeScheduling

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return SharedRunScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    rank = {group: i for i, group in enumerate(_HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item.nodeid), len(rank)))  # stable: file order otherwise
