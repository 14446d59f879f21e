"""LiteExport's settings: one frozen dataclass, built by SnoutConfig.lite_settings (pipeline/config.py)."""

from __future__ import annotations

from dataclasses import dataclass

from contract.settings import Settings

FLOAT_WEIGHTS = ("float16", "float32")


@dataclass(frozen=True)
class LiteSettings(Settings):
    # The parity gate: a variant is pushed only if its accuracy drop vs the SavedModel is at most this
    # (--max-lite-accuracy-drop) AND McNemar's exact one-sided p >= alpha (the drop is not significant).
    max_accuracy_drop: float = 0.01
    alpha: float = 0.05
    # The int8 calibration: this many train images (all of them if fewer), drawn with `seed`.
    calibration_images: int = 200
    seed: int = 7
    # model.tflite's weights: float16 halves the file and measured as well as float32 (README, bench_lite).
    float_weights: str = "float16"
    # The split the parity runs on: the one the Evaluator graded.
    split: str = "test"
    # Invokes timed per model for the single-thread latency (the fastest is reported, the median beside it).
    latency_runs: int = 30

    def __post_init__(self):
        if self.float_weights not in FLOAT_WEIGHTS:
            raise ValueError(f"LiteSettings.float_weights: {self.float_weights!r} is not one of {FLOAT_WEIGHTS}")
