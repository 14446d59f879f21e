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
