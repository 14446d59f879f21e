"""snout's Evaluator: TFX's Evaluator spec plus the gate's settings, run by executor.Executor."""

from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs as specs
from tfx.types.component_spec import ChannelParameter, ExecutionParameter
from tfx.utils import json_utils

from components.audit.component import DataAudit
from components.evaluator import executor, leaks, reuse
from components.evaluator.config import eval_config


class EvaluatorSpec(specs.EvaluatorSpec):
    # The Resolver's blessing of the baseline: when the candidate is that very model, its stored
    # evaluation is reused instead of graded again (reuse.py).
    # The data audit: its test images with a near-copy in train (leaks.py).
    INPUTS = dict(specs.EvaluatorSpec.INPUTS, **{
        reuse.BASELINE_BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing, optional=True),
        leaks.AUDIT_KEY: ChannelParameter(type=DataAudit, optional=True)})
    PARAMETERS = dict(
        specs.EvaluatorSpec.PARAMETERS,
        **{executor.MIN_ACCURACY_KEY: ExecutionParameter(type=float),
           executor.MAX_ACCURACY_DROP_KEY: ExecutionParameter(type=float),
           # baseline="served": the push destination whose newest version is the baseline.
           executor.SERVED_MODEL_DIR_KEY: ExecutionParameter(type=str, optional=True),
           executor.VALIDATION_SPLIT_KEY: ExecutionParameter(type=str, optional=True),
           # The leak rule (leaks.py): --max-leaked-test-share, --drop-leaked-test.
           leaks.MAX_LEAKED_TEST_SHARE_KEY: ExecutionParameter(type=float, optional=True),
           leaks.DROP_LEAKED_TEST_KEY: ExecutionParameter(type=int, optional=True)})


class Evaluator(base_beam_component.BaseBeamComponent):
    """Grades `model` on `gate_split` (TFMA), blesses it by snout's gate, reports `validation_split` beside it."""

    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, model: types.BaseChannel, num_classes: int,
                 min_accuracy: float, max_accuracy_drop: float, gate_split: str,
                 validation_split: Optional[str] = None, baseline_model: Optional[types.BaseChannel] = None,
                 served_model_dir: Optional[str] = None, baseline_blessing: Optional[types.BaseChannel] = None,
                 audit: Optional[types.BaseChannel] = None, max_leaked_test_share: Optional[float] = None,
                 drop_leaked_test: bool = False):
        spec = EvaluatorSpec(
            examples=examples, model=model, baseline_model=baseline_model, baseline_blessing=baseline_blessing,
            audit=audit, max_leaked_test_share=max_leaked_test_share, drop_leaked_test=int(drop_leaked_test),
            eval_config=eval_config(min_accuracy, num_classes), example_splits=json_utils.dumps([gate_split]),
            min_accuracy=float(min_accuracy), max_accuracy_drop=float(max_accuracy_drop),
            served_model_dir=served_model_dir, validation_split=validation_split,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing))
        super().__init__(spec=spec)
