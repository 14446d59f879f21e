"""The TFX module file: preprocessing_fn (Transform), tuner_fn (Tuner), run_fn (Trainer).

Each gets its own custom_config from the one SnoutConfig (pipeline/config.py: transform_config,
tuner_config, trainer_config), holding only what changes its output, so a changed setting
re-runs only the components that use it. Transform materialises nothing: Tuner and Trainer
read the raw records and apply Transform's graph in their input pipeline (datasets.py).
"""

import json
import os
import time

from trainer import keras_compat  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF loads)

import tensorflow as tf
import tensorflow_transform as tft

from trainer import base_weights, head_search, hparams
from trainer.augmentation import augmentation_layers
from trainer.backbones import get_backbone, input_scaling
from trainer.datasets import image_dataset
from trainer.devices import training_strategy
from trainer.export import export_serving_model
from trainer.image_guard import DEFAULT_MAX_PIXELS
from trainer.model import HeadParams, build_classifier, compile_classifier, with_augmentation
from trainer.progress import epoch_progress
from trainer.preprocessing import preprocessing_fn  # noqa: F401  (Transform looks it up here)
from trainer import training


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
    """KerasTuner search over the head with Keras 3, on cached base outputs unless told otherwise."""
    from tfx.components.tuner.component import TunerFnResult

    keras = keras_compat.tuning_keras()
    cfg = fn_args.custom_config
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    batch, seed = int(cfg["batch_size"]), int(cfg.get("seed", 7))
    # Trials are judged on the validation split: what the DAG passes as eval_args.
    train = image_dataset(fn_args.data_accessor, fn_args.train_files, tf_transform_output, batch, True, seed)
    evaluate = image_dataset(fn_args.data_accessor, fn_args.eval_files, tf_transform_output, batch, False)
    tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(fn_args.working_dir, "tensorboard"))
    tuner, fit_kwargs = head_search.prepare_search(keras, cfg, train, evaluate,
                                                   fn_args.working_dir, "snout_head_search")
    fit_kwargs.update(epochs=int(cfg["tuner_epochs"]), verbose=2, callbacks=[tensorboard, epoch_progress(keras, "tuner trial")])
    return TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)


def run_fn(fn_args):
    """Trains the head (then optionally fine-tunes) with tf_keras and exports for serving."""
    started = time.monotonic()
    keras = keras_compat.training_keras()
    cfg = fn_args.custom_config
    class_names = list(cfg["class_names"])
    seed = int(cfg.get("seed", 7))
    tf.keras.utils.set_random_seed(seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    strategy = training_strategy(keras)
    batch = int(cfg["batch_size"]) * strategy.num_replicas_in_sync

    def images(files, shuffle):
        return image_dataset(fn_args.data_accessor, files, tf_transform_output, batch, shuffle, seed)

    # The validation split is what the DAG passes as eval_args.
    train, validation = images(fn_args.train_files, True), images(fn_args.eval_files, False)
    head = _head_params(fn_args, cfg)
    print(f"[snout] backbone {cfg['backbone']} at {cfg['image_size']}px, weights: "
          f"{base_weights.describe(cfg['weights'])}")
    backbone = get_backbone(cfg["backbone"])
    with strategy.scope():
        classifier, base = build_classifier(keras, num_classes=len(class_names), image_size=int(cfg["image_size"]),
                                            backbone=cfg["backbone"], weights=cfg["weights"], head=head,
                                            hub_handle=cfg.get("hub_handle", ""))
        augmenter = augmentation_layers(keras, input_scaling(cfg), float(cfg.get("augment_strength", 0)),
                                        seed=seed)
        model = with_augmentation(keras, classifier, augmenter)
        if augmenter is not None:
            compile_classifier(keras, model, head.learning_rate)
    log_dir = fn_args.model_run_dir
    if backbone.pretrained:
        features = training.cached_features(keras, base, cfg, images(fn_args.train_files, False), validation,
                                            augmenter)
        head_model, phase1, phase1_best = training.train_head_on_features(
            keras, features, len(class_names), head, cfg, os.path.join(log_dir, "phase1_head"))
        training.copy_head(head_model, classifier)
        history = {"phase1_head": phase1}
        if int(cfg.get("fine_tune_epochs", 0)) > 0:
            training.fine_tune(keras, strategy, model, base, train, validation, cfg, head, log_dir,
                               phase1_best, history)
    else:
        history = training.train_from_scratch(keras, model, train, validation, cfg, log_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "history.json"), "w") as f:
        f.write(json.dumps(history, indent=2))
    trained = hparams.write_training_summary(fn_args.model_run_dir, cfg, head, bool(fn_args.hyperparameters), history,
                                             classifier, time.monotonic() - started)  # TensorBoard HParams
    provenance = {
        "backbone": cfg["backbone"], "image_size": int(cfg["image_size"]), "weights": cfg["weights"],
        "weights_description": base_weights.describe(cfg["weights"]), "class_names": class_names,
        "head": head.__dict__, "dataset": cfg.get("dataset_description", ""),
        "phase2_kept": history.get("phase2_kept"), "augment_strength": cfg.get("augment_strength", 0),
        "hub_handle": cfg.get("hub_handle"), "training": trained,
    }
    # The bare classifier: augmentation never reaches the serving graph.
    export_serving_model(classifier, tf_transform_output, class_names, fn_args.serving_model_dir, provenance,
                         max_image_pixels=int(cfg.get("max_image_pixels", DEFAULT_MAX_PIXELS)))
