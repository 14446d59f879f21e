"""Two-phase transfer learning: train the new head on a frozen base, then fine-tune its top.

Phase 1 pays for the base once. While the base is frozen, an image's pooled base output
never changes, so the base runs once per image (plus once per kept augmented view, see
AUGMENTED_VIEWS) and the head (head_choice.py: which head, and how it trains) trains on those
features until the validation loss stops improving: epochs there cost milliseconds, so the
head converges instead of stopping after a few passes. Its best epoch's weights then go into
the full network (base + head).

Phase 2 unfreezes the last `fine_tune_layers` layers of the base at a lower learning
rate and streams images (with live augmentation). BatchNorm layers stay frozen and the
base is called with training=False (see model.py), so their statistics never drift on
small batches. Each phase ends on its best epoch (by validation accuracy), and phase 2
is kept only if it did at least as well as phase 1: fine-tuning a few images' worth can
make a model worse, and then the phase-1 model is what ships.
"""

import os
import time
from typing import Dict

import numpy as np

from trainer import shared_features
from trainer.head_search import pooled_features
from trainer.model import compile_classifier
from trainer.progress import epoch_progress
from trainer.settings import HeadParams, Network, TrainerSettings

# Augmented views of each training image whose base outputs phase 1 keeps (with the clean one).
# One: it matches what phase 2 and serving see less than the clean view does, and each more
# view costs a full base pass for a shrinking gain on a head over pooled features; phase 2
# still draws fresh augmentations every epoch.
AUGMENTED_VIEWS = 1


def snapshot(model):
    """Every variable with its value, by identity: get_weights() order changes with `trainable`."""
    return [(v, v.numpy()) for v in model.weights]


def restore(saved) -> None:
    for variable, value in saved:
        variable.assign(value)


def _keep_best(keras):
    class KeepBestWeights(keras.callbacks.Callback):
        """Restores the best val_accuracy epoch at the end (EarlyStopping only does so when it stops); among
        equal accuracies the lower val_loss (a small validation split saturates at 1.0 in the first epoch,
        whose head is far from trained: phase 2 then started below phase 1's end)."""

        def __init__(self):
            super().__init__()
            self.best, self.best_loss, self.best_weights, self.best_epoch = -1.0, float("inf"), None, 0

        def on_epoch_end(self, epoch, logs=None):
            value, loss = (logs or {}).get("val_accuracy"), (logs or {}).get("val_loss", float("inf"))
            if value is not None and (value > self.best or (value == self.best and loss < self.best_loss)):
                self.best, self.best_loss = float(value), float(loss)
                self.best_weights, self.best_epoch = snapshot(self.model), epoch + 1

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                restore(self.best_weights)

    return KeepBestWeights()


def callbacks(keras, log_dir: str, stop_on: str, patience: int, min_delta: float = 0.0):
    """The one place training callbacks are assembled: (keep-best callback, all callbacks). An epoch
    that improves `stop_on` by less than `min_delta` counts as no improvement."""
    keep_best = _keep_best(keras)
    mode = "min" if stop_on.endswith("loss") else "max"
    return keep_best, [
        keras.callbacks.EarlyStopping(monitor=stop_on, mode=mode, patience=patience, min_delta=min_delta),
        keep_best,
        keras.callbacks.TensorBoard(log_dir=log_dir),
        epoch_progress(keras, os.path.basename(log_dir)),
    ]


def unfreeze_top(keras, base, n_layers: int) -> int:
    """Makes the last n layers of `base` trainable, BatchNorm excepted. Returns how many."""
    base.trainable = True
    cut = max(0, len(base.layers) - n_layers)
    unfrozen = 0
    for i, layer in enumerate(base.layers):
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= cut and not is_bn
        unfrozen += int(layer.trainable and bool(layer.weights))
    return unfrozen


def without_autograph(model):
    """tf_keras traces train_step/test_step with autograph, which converts the source of every Keras
    layer and of Keras' training code on the first step (seconds on a small head, minutes on
    MobileNetV2 under load). Nothing there branches on a tensor in Python, so it runs as written, as
    Keras 3 does (its steps are marked do_not_convert)."""
    import tensorflow as tf

    for name in ("train_step", "test_step", "predict_step"):
        setattr(model, name, tf.autograph.experimental.do_not_convert(getattr(model, name)))
    return model


def history_of(fit) -> Dict:
    return {k: [float(v) for v in vals] for k, vals in fit.history.items()}


def clean_labels(labels: np.ndarray, augmenter) -> np.ndarray:
    """The labels of the clean view among cached_features' (clean first, then the augmented views)."""
    views = 1 + (AUGMENTED_VIEWS if augmenter is not None else 0)
    return labels[: len(labels) // views]


def labels_of(dataset) -> np.ndarray:
    """Every label of an (images, labels) dataset, in order (one pass: it decodes the images too)."""
    return np.concatenate([np.asarray(y).reshape(-1) for _, y in dataset]) if dataset is not None else np.zeros(0)


def predict_dataset(model, dataset):
    """(probabilities, labels) of `model` in inference mode over an (images, labels) dataset."""
    probabilities, labels = [], []
    for images, y in dataset:
        probabilities.append(np.asarray(model(images, training=False)))
        labels.append(np.asarray(y).reshape(-1))
    return np.concatenate(probabilities), np.concatenate(labels)


def cached_features(keras, base, settings: TrainerSettings, train_plain, validation, augmenter):
    """((train features, labels), (validation features, labels)): the run's embeddings when they fit,
    else one base pass per view kept."""
    network = settings.network
    kept_views = AUGMENTED_VIEWS if augmenter is not None else 0
    shared = shared_features.load(settings.embeddings_uri, network, kept_views, settings.augment_strength,
                                  settings.seed)
    if shared is not None:
        return shared
    start = time.time()
    train_clean, validation_features = pooled_features(keras, [train_plain, validation], network, base=base)
    views = [train_clean]
    if augmenter is not None:
        views += pooled_features(keras, [train_plain] * AUGMENTED_VIEWS, network, base=base, augment=augmenter)
    x = np.concatenate([v[0] for v in views])
    y = np.concatenate([v[1] for v in views])
    print(f"[snout] phase 1: base run once over {len(train_clean[1])} training images x {len(views)} view(s) "
          f"and {len(validation_features[1])} validation images in {time.time() - start:.1f}s")
    return (x, y), validation_features


def copy_head(source, target) -> None:
    """Copies every weighted layer of `source` (the head on features) into the same-named layer of `target`."""
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


def fine_tune(keras, strategy, model, base, train, validation, settings: TrainerSettings, head: HeadParams,
              log_dir: str, phase1_best: float, history: Dict, class_weight=None) -> None:
    """Phase 2 on streamed images; restores the phase-1 weights unless it did at least as well."""
    phase1_weights = snapshot(model)
    with strategy.scope():
        unfrozen = unfreeze_top(keras, base, settings.fine_tune_layers)
        lr = head.learning_rate * settings.fine_tune_lr_factor
        compile_classifier(keras, model, lr)  # recompile so the new trainable set takes effect
    print(f"[snout] phase 2: fine-tuning the top {unfrozen} weighted base layers at learning rate {lr:g}")
    keep_best, cbs = callbacks(keras, os.path.join(log_dir, "phase2_fine_tune"), stop_on="val_accuracy",
                               patience=settings.early_stopping_patience)
    fit = without_autograph(model).fit(train, validation_data=validation, epochs=settings.fine_tune_epochs,
                                       verbose=2, callbacks=cbs, class_weight=class_weight)
    history["phase2_fine_tune"] = history_of(fit)
    kept = keep_best.best >= phase1_best
    history["phase2_kept"] = kept
    if not kept:
        restore(phase1_weights)
    print(f"[snout] phase 2 best val accuracy {keep_best.best:.4f} vs phase 1 {phase1_best:.4f}: "
          + ("kept" if kept else "discarded, shipping the phase-1 model"))


def train_from_scratch(keras, model, train, validation, settings: TrainerSettings, log_dir: str,
                       class_weight=None) -> Dict:
    """A base trained from scratch changes every step: the whole network trains on streamed images."""
    _, cbs = callbacks(keras, os.path.join(log_dir, "phase1_head"), stop_on="val_accuracy",
                       patience=settings.early_stopping_patience)
    fit = without_autograph(model).fit(train, validation_data=validation, epochs=settings.epochs, verbose=2,
                                       callbacks=cbs, class_weight=class_weight)
    return {"phase1_head": history_of(fit)}
