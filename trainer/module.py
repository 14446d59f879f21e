"""The TFX module file: preprocessing_fn (Transform), tuner_fn (Tuner), run_fn (Trainer).

custom_config (set in pipeline/dag.py from the one SnoutConfig) carries everything
these need: class names, image size, backbone, weights, epochs, batch size.
"""

import json
import os

from trainer import keras_compat  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

import tensorflow as tf
import tensorflow_transform as tft

from trainer import base_weights
from trainer.datasets import transformed_dataset
from trainer.devices import training_strategy
from trainer.export import export_serving_model
from trainer.model import HeadParams, build_classifier
from trainer.preprocessing import preprocessing_fn  # noqa: F401  (Transform looks it up here)
from trainer.training import train_two_phases


def _head_params(fn_args, cfg) -> HeadParams:
    defaults = HeadParams.from_dict(cfg.get("head", {}))
    if fn_args.hyperparameters:
        # From the Tuner (or an imported best_hyperparameters file): a KerasTuner config.
        values = fn_args.hyperparameters.get("values", fn_args.hyperparameters)
        tuned = HeadParams.from_dict(values)
        print(f"[snout] using tuned hyperparameters: {tuned}")
        return tuned
    return defaults


def tuner_fn(fn_args):
    """KerasTuner search over the head, on Transform's output, with Keras 3."""
    import keras_tuner as kt
    from tfx.components.tuner.component import TunerFnResult

    keras = keras_compat.tuning_keras()
    cfg = fn_args.custom_config
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    batch = int(cfg["batch_size"])
    train = transformed_dataset(fn_args.data_accessor, fn_args.train_files, tf_transform_output, batch, True)
    evaluate = transformed_dataset(fn_args.data_accessor, fn_args.eval_files, tf_transform_output, batch, False)

    def build(hp):
        head = HeadParams(
            learning_rate=hp.Float("learning_rate", 1e-4, 3e-3, sampling="log"),
            head_units=hp.Choice("head_units", [64, 128, 256]),
            head_layers=hp.Int("head_layers", 1, 2),
            dropout=hp.Float("dropout", 0.0, 0.5, step=0.1),
        )
        model, _ = build_classifier(keras, num_classes=len(cfg["class_names"]), image_size=int(cfg["image_size"]),
                                    backbone=cfg["backbone"], weights=cfg["weights"], head=head)
        return model

    tuner = kt.RandomSearch(
        build, objective=kt.Objective("val_accuracy", "max"), max_trials=int(cfg["tuner_trials"]),
        directory=fn_args.working_dir, project_name="snout_head_search", seed=int(cfg.get("seed", 7)),
        overwrite=True,
    )
    return TunerFnResult(
        tuner=tuner,
        fit_kwargs={"x": train.cache(), "validation_data": evaluate.cache(), "epochs": int(cfg["tuner_epochs"]),
                    "verbose": 2},
    )


def run_fn(fn_args):
    """Trains the head (then optionally fine-tunes) with tf_keras and exports for serving."""
    keras = keras_compat.training_keras()
    cfg = fn_args.custom_config
    class_names = list(cfg["class_names"])
    tf.keras.utils.set_random_seed(int(cfg.get("seed", 7)))
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    strategy = training_strategy(keras)
    batch = int(cfg["batch_size"]) * strategy.num_replicas_in_sync
    train = transformed_dataset(fn_args.data_accessor, fn_args.train_files, tf_transform_output, batch, True)
    evaluate = transformed_dataset(fn_args.data_accessor, fn_args.eval_files, tf_transform_output, batch, False)
    head = _head_params(fn_args, cfg)
    print(f"[snout] backbone {cfg['backbone']} at {cfg['image_size']}px, weights: "
          f"{base_weights.describe(cfg['weights'])}")
    with strategy.scope():
        model, base = build_classifier(keras, num_classes=len(class_names), image_size=int(cfg["image_size"]),
                                       backbone=cfg["backbone"], weights=cfg["weights"], head=head)
    history = train_two_phases(keras, strategy, model, base, train.cache(), evaluate.cache(), cfg, head,
                               log_dir=fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "history.json"), "w") as f:
        f.write(json.dumps(history, indent=2))
    provenance = {
        "backbone": cfg["backbone"], "image_size": int(cfg["image_size"]), "weights": cfg["weights"],
        "weights_description": base_weights.describe(cfg["weights"]), "class_names": class_names,
        "head": head.__dict__, "dataset": cfg.get("dataset_description", ""),
    }
    export_serving_model(model, tf_transform_output, class_names, fn_args.serving_model_dir, provenance)
