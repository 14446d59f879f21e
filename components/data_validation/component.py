"""TFX's ExampleValidator with an executor that fails on anomalies (components/data_validation/executor.py)."""

from tfx.components import ExampleValidator
from tfx.dsl.components.base import executor_spec

from components.data_validation import executor


class GatingExampleValidator(ExampleValidator):
    """Same inputs, outputs and artifacts as ExampleValidator; anomalies stop the run."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
