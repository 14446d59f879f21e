"""Phase 1's head: which one the data supports, and how it is trained on cached base features.

Which head. A hidden layer (128 relu units, dropout) can combine features a linear softmax
cannot, but with very few photos a class it has more to overfit with. Measured on the
generated 120-breed set (bench/bench_head_choice.py; holdout accuracy on 2,400 more photos,
against a linear probe whose epoch count is chosen on validation): at 3 training photos a class
the hidden head reaches 0.80x the probe and a linear head 0.94x; at 5, 0.96x and 0.98x; from 9
up the hidden head is ahead (1.10x at 9, 1.05x at 24). So with `--head-layers auto` (the
default) the head has no hidden layer below HIDDEN_MIN_IMAGES_PER_CLASS training photos a
class, counted in the training split, and one hidden layer from there on.

How it trains. An epoch on cached features costs milliseconds, so the head trains until the
validation metric stops improving (patience HEAD_PATIENCE), for at least --epochs and at most
HEAD_MAX_EPOCHS / HEAD_MAX_STEPS, and ends on its best validation-accuracy epoch. The epoch
whose weights are kept is recorded (history.json "phase1_best_epoch"): phase 2 continues from it,
not from the last epoch trained. Class weights (class_weights.py) weight the loss when asked for.
Everything is a function of (features, labels): where the features come from is the caller's.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

import numpy as np

AUTO = -1                        # --head-layers auto
HIDDEN_MIN_IMAGES_PER_CLASS = 8  # measured crossover: between 5 (linear ahead) and 9 (hidden ahead)
HEAD_MAX_EPOCHS = 100
HEAD_MAX_STEPS = 20_000
HEAD_PATIENCE = 10


def images_per_class(labels: np.ndarray, num_classes: int) -> float:
    return float(len(labels)) / max(1, num_classes)


def resolve_head(head, train_labels: np.ndarray, num_classes: int) -> Tuple[object, str]:
    """(head with head_layers decided, why): `auto` becomes 0 or 1 by training photos a class."""
    if head.head_layers != AUTO:
        return head, f"{head.head_layers} hidden layer(s), as configured"
    per_class = images_per_class(train_labels, num_classes)
    layers = 1 if per_class >= HIDDEN_MIN_IMAGES_PER_CLASS else 0
    rule = (f"{per_class:.1f} training images a class is "
            f"{'at least' if layers else 'below'} {HIDDEN_MIN_IMAGES_PER_CLASS}")
    chosen = "one hidden layer" if layers else "no hidden layer (a linear softmax on the base's features)"
    return dataclasses.replace(head, head_layers=layers), f"{chosen}: {rule}"


def train_head(keras, train: Tuple[np.ndarray, np.ndarray], validation: Tuple[np.ndarray, np.ndarray],
               num_classes: int, head, *, batch_size: int, min_epochs: int, log_dir: str,
               class_weight: Optional[Dict[int, float]] = None):
    """Trains the head alone on pooled features; returns (model, history, best val accuracy, best epoch).

    The best epoch (1-based) is the one whose weights are kept, and phase 2's starting point.
    """
    from trainer import training
    from trainer.model import build_head_on_features

    x, y = train
    model = build_head_on_features(keras, x.shape[1], num_classes, head)
    keep_best, cbs = training.callbacks(keras, log_dir, stop_on="val_loss", patience=HEAD_PATIENCE)
    steps_per_epoch = -(-len(y) // batch_size)
    epochs = max(int(min_epochs), min(HEAD_MAX_EPOCHS, HEAD_MAX_STEPS // steps_per_epoch))
    fit = model.fit(x, y, validation_data=validation, epochs=epochs, batch_size=batch_size, shuffle=True,
                    verbose=0, callbacks=cbs, class_weight=class_weight)
    return model, training.history_of(fit), keep_best.best, keep_best.best_epoch
