"""create_pipeline's two baselines: the Resolver's latest blessed model, or the served version."""

import pytest

from pipeline.config import SnoutConfig
from pipeline.dag import create_pipeline

RESOLVER = "latest_blessed_model_resolver"


def _evaluator(pipeline):
    return next(c for c in pipeline.components if c.id == "Evaluator")


@pytest.mark.parametrize("baseline", ["resolver", "served"])
def test_baseline_choice_shapes_the_dag(tmp_path, baseline):
    config = SnoutConfig(workspace=str(tmp_path))
    pipeline = create_pipeline(config, str(tmp_path), ["a", "b"], "d", baseline=baseline)
    ids = [c.id for c in pipeline.components]
    evaluator = _evaluator(pipeline)
    if baseline == "resolver":
        assert RESOLVER in ids and "baseline_model" in evaluator.inputs
        assert evaluator.exec_properties["served_model_dir"] is None
    else:  # open-source KFP runs no resolver: the Evaluator reads the push destination itself
        assert RESOLVER not in ids and "baseline_model" not in evaluator.inputs
        assert evaluator.exec_properties["served_model_dir"] == config.model_serving_dir
    assert evaluator.exec_properties["min_accuracy"] == config.min_accuracy


def test_unknown_baseline_is_refused(tmp_path):
    with pytest.raises(ValueError, match="baseline"):
        create_pipeline(SnoutConfig(workspace=str(tmp_path)), str(tmp_path), ["a", "b"], "d", baseline="latest")
