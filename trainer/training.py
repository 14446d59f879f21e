"""Two-phase transfer learning: train the new head on a frozen base, then fine-tune its top.

Phase 2 unfreezes the last `fine_tune_layers` layers of the base at a lower learning
rate. BatchNorm layers stay frozen and the base is called with training=False (see
model.py), so their statistics never drift on small batches.
"""

import os
from typing import Dict

from trainer.model import compile_classifier


def _callbacks(keras, cfg, log_dir: str):
    return [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                      patience=int(cfg.get("early_stopping_patience", 3)),
                                      restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=log_dir),
    ]


def unfreeze_top(keras, base, n_layers: int) -> int:
    """Makes the last n layers of `base` trainable, BatchNorm excepted. Returns how many."""
    base.trainable = True
    cut = max(0, len(base.layers) - n_layers)
    unfrozen = 0
    for i, layer in enumerate(base.layers):
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= cut and not is_bn
        unfrozen += int(layer.trainable)
    return unfrozen


def train_two_phases(keras, strategy, model, base, train, evaluate, cfg, head, log_dir: str) -> Dict:
    history = {}
    epochs = int(cfg["epochs"])
    fit = model.fit(train, validation_data=evaluate, epochs=epochs, verbose=2,
                    callbacks=_callbacks(keras, cfg, os.path.join(log_dir, "phase1_head")))
    history["phase1_head"] = {k: [float(v) for v in vals] for k, vals in fit.history.items()}

    fine_tune_epochs = int(cfg.get("fine_tune_epochs", 0))
    if fine_tune_epochs > 0:
        with strategy.scope():
            unfrozen = unfreeze_top(keras, base, int(cfg["fine_tune_layers"]))
            lr = head.learning_rate * float(cfg.get("fine_tune_lr_factor", 0.1))
            compile_classifier(keras, model, lr)  # recompile so the new trainable set takes effect
        print(f"[snout] fine-tuning {unfrozen} base layers at learning rate {lr:g}")
        fit = model.fit(train, validation_data=evaluate, epochs=fine_tune_epochs, verbose=2,
                        callbacks=_callbacks(keras, cfg, os.path.join(log_dir, "phase2_fine_tune")))
        history["phase2_fine_tune"] = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    return history
