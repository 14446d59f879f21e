"""One tiny but real run of the whole DAG, shared by every test that needs pipeline outputs.

Run once per test session (it takes a few minutes on 2 cores): ImportExampleGen ->
... -> Tuner -> Trainer -> ... -> Pusher under LocalDagRunner, Beam DirectRunner
multi-processing, on the generated sample set, at 96 px.
"""

import os

from pipeline.config import SnoutConfig

TINY = dict(image_size=96, sample_images_per_class=32, epochs=4, batch_size=16, fine_tune_epochs=2,
            fine_tune_layers=10, fine_tune_lr_factor=0.05, min_accuracy=0.75, learning_rate=3e-3,
            augment_strength=0.5, tune=True, tuner_trials=3, tuner_epochs=3)


def tiny_config(workspace: str, **overrides) -> SnoutConfig:
    values = dict(TINY, workspace=workspace)
    values.update(overrides)
    return SnoutConfig(**values)


class PipelineRun:
    """The outcome and progress of one `run_pipeline` call, plus its config."""

    def __init__(self, config, outcome, progress):
        self.config = config
        self.outcome = outcome
        self.progress = progress

    @property
    def versions(self):
        base = self.config.model_serving_dir
        return sorted(v for v in os.listdir(base) if v.isdigit()) if os.path.isdir(base) else []


def run(config) -> PipelineRun:
    from pipeline.run_command import run_pipeline

    outcome, progress = run_pipeline(config)
    return PipelineRun(config, outcome, progress)
