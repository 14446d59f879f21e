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


# Heaviest first, so the two workers of `pytest -n 2` start on them and finish together.
_HEAVY_FIRST = ("first_pipeline_run", "tests/pipeline/test_kubeflow_local_run.py",
                "tests/pipeline/test_portable_pipeline_run.py", "tests/pipeline/test_portable_runner.py",
                "tests/pipeline/test_dask_runner.py", "tests/components/test_lite_export.py",
                "tests/components/test_evaluator_reuse.py", "tests/components/test_evaluator.py")


def _group(item) -> str:
    """One process per group: the tests sharing the DAG run, else each file (its module fixtures once)."""
    return "first_pipeline_run" if "first_pipeline_run" in item.fixturenames else item.nodeid.split("::")[0]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {group: i for i, group in enumerate(_HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item), len(rank)))  # stable: file order otherwise
