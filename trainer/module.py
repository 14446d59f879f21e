"""The TFX module file: preprocessing_fn (Transform), tuner_fn (Tuner), run_fn (Trainer).

Each parses its own settings (trainer/settings.py) from its custom_config once, first thing;
everything below takes typed values. Transform materialises nothing: Tuner and Trainer read
the raw records and apply Transform's graph in their input pipeline (datasets.py).
"""

import json
import os
import time

# Imported before TensorFlow: it sets TF_USE_LEGACY_KERAS, which TF reads when it loads.
from trainer import keras_compat

import tensorflow as tf
import tensorflow_transform as tft

from trainer import base_weights, head_search, hparams
from trainer.augmentation import augmentation_layers
from trainer.backbones import get_backbone
from trainer.datasets import image_dataset
from trainer.devices import training_strategy
from trainer.export import export_serving_model
from trainer.model import build_base, build_classifier, compile_classifier, with_augmentation
from trainer.progress import epoch_progress
from trainer.preprocessing import preprocessing_fn  # noqa: F401  (Transform looks it up here)
from trainer.settings import HeadParams, TrainerSettings, TunerSettings
from trainer import calibration, class_weights, head_choice, training


def _head_params(hyperparameters, configured: HeadParams) -> HeadParams:
    """The configured head, or the Tuner's (or an imported best_hyperparameters file's) when given."""
    if not hyperparameters:
        return configured
    tuned = configured.tuned(hyperparameters)
    print(f"[snout] using tuned hyperparameters: {tuned}")
    return tuned


def tuner_fn(fn_args):
    """KerasTuner search over the head with Keras 3, on cached base outputs unless told otherwise."""
    from tfx.components.tuner.component import TunerFnResult

    settings = TunerSettings.from_config(fn_args.custom_config)
    keras = keras_compat.tuning_keras()
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    batch = settings.batch_size
    # Trials are judged on the validation split: what the DAG passes as eval_args.
    train = image_dataset(fn_args.data_accessor, fn_args.train_files, tf_transform_output, batch, True, settings.seed)
    evaluate = image_dataset(fn_args.data_accessor, fn_args.eval_files, tf_transform_output, batch, False)
    tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(fn_args.working_dir, "tensorboard"))
    tuner, fit_kwargs = head_search.prepare_search(keras, settings, train, evaluate,
                                                   fn_args.working_dir, "snout_head_search")
    fit_kwargs.update(epochs=settings.epochs, verbose=2, callbacks=[tensorboard, epoch_progress(keras, "tuner trial")])
    return TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)


def run_fn(fn_args):
    """Trains the head (then optionally fine-tunes) with tf_keras, calibrates and exports for serving."""
    started = time.monotonic()
    settings = TrainerSettings.from_config(fn_args.custom_config)
    network, class_names = settings.network, list(settings.class_names)
    keras = keras_compat.training_keras()
    tf.keras.utils.set_random_seed(settings.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    strategy = training_strategy(keras)
    batch = settings.batch_size * strategy.num_replicas_in_sync

    def images(files, shuffle):
        return image_dataset(fn_args.data_accessor, files, tf_transform_output, batch, shuffle, settings.seed)

    # The validation split is what the DAG passes as eval_args.
    train, validation = images(fn_args.train_files, True), images(fn_args.eval_files, False)
    head = _head_params(fn_args.hyperparameters, settings.head)
    print(f"[snout] backbone {network.backbone} at {network.image_size}px, weights: "
          f"{base_weights.describe(network.weights)}")
    with strategy.scope():
        base = build_base(keras, network)
        augmenter = augmentation_layers(keras, network.scaling, settings.augment_strength, seed=settings.seed)
    log_dir = fn_args.model_run_dir
    pretrained = get_backbone(network.backbone).pretrained
    features, notes = None, {}
    if pretrained:
        features = training.cached_features(keras, base, settings, images(fn_args.train_files, False), validation,
                                            augmenter)
        train_labels = training.clean_labels(features[0][1], augmenter)
        heads, notes["head_choice"] = ([head], "as tuned") if fn_args.hyperparameters else head_choice.candidates(
            head, train_labels, len(class_names), settings.linear_head_below)
    else:
        train_labels = training.labels_of(images(fn_args.train_files, False)) if settings.class_weights != "none" else []
    weights = class_weights.class_weights(settings.class_weights, train_labels, len(class_names))
    if weights:
        print(f"[snout] {class_weights.describe(weights)}")
    if pretrained:
        chosen, fits = head_choice.train_heads(keras, *features, len(class_names), heads,
                                               batch_size=settings.batch_size, min_epochs=settings.epochs,
                                               log_dir=os.path.join(log_dir, "phase1_head"), class_weight=weights)
        head, head_model = chosen.head, chosen.model
        notes["phase1_candidates"] = [fit.describe() for fit in fits]
        print(f"[snout] phase 1 head ({notes['head_choice']}): " + "; ".join(notes["phase1_candidates"])
              + (f"; chosen: {chosen.describe().split(':')[0]}" if len(fits) > 1 else ""))
        print(f"[snout] phase 1: head trained {len(chosen.history['loss'])} epochs on cached features, best val "
              f"accuracy {chosen.best_accuracy:.4f} at epoch {chosen.best_epoch} (its weights are kept)")
    with strategy.scope():
        classifier, _ = build_classifier(keras, num_classes=len(class_names), network=network, head=head, base=base)
        model = with_augmentation(keras, classifier, augmenter)
        if augmenter is not None:
            compile_classifier(keras, model, head.learning_rate)
    if pretrained:
        training.copy_head(head_model, classifier)
        history = {"phase1_head": chosen.history, "phase1_best_epoch": chosen.best_epoch}
        if settings.fine_tune_epochs > 0:
            training.fine_tune(keras, strategy, model, base, train, validation, settings, head, log_dir,
                               chosen.best_accuracy, history, class_weight=weights)
    else:
        history = training.train_from_scratch(keras, model, train, validation, settings, log_dir,
                                              class_weight=weights)
    temperature = 1.0
    if settings.calibrate:
        notes["calibration"] = _calibrate(classifier, head_model if pretrained else None, features, validation,
                                          history)
        temperature = notes["calibration"]["temperature"]
    history.update(notes)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "history.json"), "w") as f:
        f.write(json.dumps(history, indent=2))
    trained = hparams.write_training_summary(fn_args.model_run_dir, settings, head, bool(fn_args.hyperparameters),
                                             history, classifier, time.monotonic() - started)  # TensorBoard HParams
    provenance = {
        "backbone": network.backbone, "image_size": network.image_size, "weights": network.weights,
        "weights_description": base_weights.describe(network.weights), "class_names": class_names,
        "head": head.to_config(), "dataset": settings.dataset_description,
        "phase2_kept": history.get("phase2_kept"), "augment_strength": settings.augment_strength,
        "hub_handle": network.hub_handle or None, "training": trained, "class_weights": settings.class_weights,
        "temperature": temperature, **notes,
    }
    # The bare classifier: augmentation never reaches the serving graph.
    export_serving_model(classifier, tf_transform_output, class_names, fn_args.serving_model_dir, provenance,
                         max_image_pixels=settings.max_image_pixels, input_scaling=settings.network.scaling,
                         temperature=temperature)


def _calibrate(classifier, head_model, features, validation, history) -> dict:
    """Temperature scaling fitted on the validation split, on the network that ships."""
    if head_model is not None and not history.get("phase2_kept"):
        # The shipped weights are phase 1's: the head on the cached validation features is the same network.
        probabilities, labels = head_model.predict(features[1][0], verbose=0), features[1][1]
    else:
        probabilities, labels = training.predict_dataset(classifier, validation)
    found = calibration.fit_on(probabilities, labels)
    print(f"[snout] calibration: temperature {found['temperature']:.3f} fitted on {found['examples']} validation "
          f"images (expected calibration error there {found['ece_before']:.4f} -> {found['ece_after']:.4f})")
    return found
