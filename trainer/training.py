"""Two-phase transfer learning: train the new head on a frozen base, then fine-tune its top.

Phase 2 unfreezes the last `fine_tune_layers` layers of the base at a lower learning
rate. BatchNorm layers stay frozen and the base is called with training=False (see
model.py), so their statistics never drift on small batches. Each phase ends on its
best epoch (by validation accuracy), and phase 2 is kept only if it did at least as
well as phase 1: fine-tuning a few images' worth can make a model worse, and then
the phase-1 model is what ships.
"""

import os
from typing import Dict

from trainer.model import compile_classifier
from trainer.progress import epoch_progress


def snapshot(model):
    """Every variable with its value, by identity: get_weights() order changes with `trainable`."""
    return [(v, v.numpy()) for v in model.weights]


def restore(saved) -> None:
    for variable, value in saved:
        variable.assign(value)


def _keep_best(keras):
    class KeepBestWeights(keras.callbacks.Callback):
        """Restores the best val_accuracy epoch at the end (EarlyStopping only does so when it stops)."""

        def __init__(self):
            super().__init__()
            self.best, self.best_weights = -1.0, None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_accuracy")
            if value is not None and value > self.best:
                self.best, self.best_weights = float(value), snapshot(self.model)

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                restore(self.best_weights)

    return KeepBestWeights()


def _callbacks(keras, cfg, log_dir: str):
    keep_best = _keep_best(keras)
    return keep_best, [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                      patience=int(cfg.get("early_stopping_patience", 3))),
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


def _history(fit) -> Dict:
    return {k: [float(v) for v in vals] for k, vals in fit.history.items()}


def train_two_phases(keras, strategy, model, base, train, evaluate, cfg, head, log_dir: str,
                     pretrained: bool = True) -> Dict:
    """`model` is what fit trains (possibly augmentation + classifier); returns the history."""
    history = {}
    keep_best, callbacks = _callbacks(keras, cfg, os.path.join(log_dir, "phase1_head"))
    fit = model.fit(train, validation_data=evaluate, epochs=int(cfg["epochs"]), verbose=2, callbacks=callbacks)
    history["phase1_head"] = _history(fit)
    phase1_best, phase1_weights = keep_best.best, snapshot(model)

    fine_tune_epochs = int(cfg.get("fine_tune_epochs", 0))
    if fine_tune_epochs > 0 and pretrained:
        with strategy.scope():
            unfrozen = unfreeze_top(keras, base, int(cfg["fine_tune_layers"]))
            lr = head.learning_rate * float(cfg.get("fine_tune_lr_factor", 0.1))
            compile_classifier(keras, model, lr)  # recompile so the new trainable set takes effect
        print(f"[snout] phase 2: fine-tuning the top {unfrozen} weighted base layers at learning rate {lr:g}")
        keep_best, callbacks = _callbacks(keras, cfg, os.path.join(log_dir, "phase2_fine_tune"))
        fit = model.fit(train, validation_data=evaluate, epochs=fine_tune_epochs, verbose=2, callbacks=callbacks)
        history["phase2_fine_tune"] = _history(fit)
        kept = keep_best.best >= phase1_best
        history["phase2_kept"] = kept
        if not kept:
            restore(phase1_weights)
        print(f"[snout] phase 2 best val accuracy {keep_best.best:.4f} vs phase 1 {phase1_best:.4f}: "
              + ("kept" if kept else "discarded, shipping the phase-1 model"))
    return history
