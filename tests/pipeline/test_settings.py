"""Each TFX user-code component's settings (trainer/settings.py): built by SnoutConfig from the flags,
handed over as plain JSON, parsed back strictly, and holding only what that component uses."""

import json

import pytest

from pipeline.config import SnoutConfig
from trainer.settings import HeadParams, TrainerSettings, TransformSettings, TunerSettings

CLASSES = ["cat", "dog"]


def _built(config: SnoutConfig):
    return {TransformSettings: config.transform_settings(), TunerSettings: config.tuner_settings(CLASSES),
            TrainerSettings: config.trainer_settings(CLASSES, "data")}


def test_settings_travel_as_json_and_come_back_equal():
    for kind, settings in _built(SnoutConfig(image_size=96, tuner_algorithm="bayesian", epochs=2)).items():
        config = json.loads(json.dumps(settings.to_config()))  # what TFX stores and hands the component
        assert kind.from_config(config) == settings
    assert isinstance(TrainerSettings.from_config(json.loads(json.dumps(_built(SnoutConfig())[TrainerSettings]
                                                                       .to_config()))).head, HeadParams)


def test_parsing_is_strict_and_names_the_setting():
    good = SnoutConfig().trainer_settings(CLASSES, "data").to_config()
    for broken, message in [({**good, "epoch": 3}, "unknown setting(s) epoch"),
                            ({k: v for k, v in good.items() if k != "seed"}, "missing setting(s) seed"),
                            ({**good, "epochs": "5"}, "TrainerSettings.epochs: expected int"),
                            ({**good, "head": {**good["head"], "dropout": None}}, "HeadParams.dropout: expected float"),
                            ({**good, "class_names": "cat"}, "class_names: expected a list")]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            TrainerSettings.from_config(broken)
    assert TrainerSettings.from_config({**good, "augment_strength": 1}).augment_strength == 1.0  # JSON's 1.0


def test_every_flag_reaches_the_components_that_use_it_and_no_other():
    """A flag changed alone changes the settings (= the cache key) of exactly the components listed."""
    base = _built(SnoutConfig())
    uses = {  # flag: new value, the components whose settings it changes
        "image_size": (96, {TransformSettings, TunerSettings, TrainerSettings}),
        "backbone": ("efficientnet_b0", {TransformSettings, TunerSettings, TrainerSettings}),
        "weights": ("none", {TunerSettings, TrainerSettings}),
        "batch_size": (8, {TunerSettings, TrainerSettings}),
        "seed": (3, {TunerSettings, TrainerSettings}),
        "tuner_trials": (2, {TunerSettings}), "tuner_epochs": (2, {TunerSettings}),
        "tuner_algorithm": ("hyperband", {TunerSettings}), "tuner_mode": ("full", {TunerSettings}),
        "learning_rate": (0.01, {TrainerSettings}), "head_units": (8, {TrainerSettings}),
        "head_layers": (2, {TrainerSettings}), "dropout": (0.5, {TrainerSettings}),
        "epochs": (9, {TrainerSettings}), "fine_tune_epochs": (0, {TrainerSettings}),
        "fine_tune_layers": (5, {TrainerSettings}), "fine_tune_lr_factor": (0.5, {TrainerSettings}),
        "early_stopping_patience": (1, {TrainerSettings}), "augment_strength": (0.0, {TrainerSettings}),
        "max_image_pixels": (1000, {TrainerSettings}),
        "min_accuracy": (0.5, set()), "max_accuracy_drop": (0.1, set()), "sample_images_per_class": (9, set()),
    }
    for flag, (value, expected) in uses.items():
        changed = _built(SnoutConfig(**{flag: value}))
        assert {kind for kind in base if changed[kind] != base[kind]} == expected, flag
    trainer = _built(SnoutConfig(seed=3, augment_strength=0.5, fine_tune_epochs=4))[TrainerSettings]
    assert (trainer.seed, trainer.augment_strength, trainer.fine_tune_epochs) == (3, 0.5, 4)
