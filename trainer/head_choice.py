"""Phase 1's head: which one the data supports, and how it is trained on cached base features.

Which head. A hidden layer (128 relu units, dropout) can combine features a linear softmax
cannot, but it has more to overfit with, and which one wins depends on the data. Measured with
bench/bench_head_choice.py (accuracy on 2,400 held-out photos, against a linear probe whose
epoch count is chosen on validation) on the generated 120-breed set's MobileNetV2 features,
by training photos a class: hidden / linear head 0.80x / 0.94x at 3, 0.87x / 0.96x at 4,
0.96x / 0.94x at 5, 1.03x / 0.96x at 7, 1.10x / 0.96x at 9, 1.05x / 1.00x at 24. On generated
features with a low-dimensional class structure a linear head wins at 9 (1.07x against 0.93x).
So:
- below `--linear-head-below` (5) training photos a class, the head is linear: there the
  validation split is too small to tell the two apart (at 3 and 4 a class it preferred the
  hidden head, which then did worse on the held-out photos);
- from there on, both heads are trained (seconds, on the cached features) and the validation
  split chooses: the hidden head only when its accuracy is ahead by more than one standard
  error (choose()), else the linear one. A head from the Tuner, or --head-layers 0,
  is trained as it is.

How it trains. An epoch on cached features costs milliseconds, so a head trains until the
validation loss stops improving (patience HEAD_PATIENCE), for at least --epochs and at most
HEAD_MAX_EPOCHS / HEAD_MAX_STEPS, and ends on its best validation-accuracy epoch. That epoch is
recorded (history.json "phase1_best_epoch"): phase 2 continues from it, not from the last epoch
trained. Class weights (class_weights.py) weight the loss when asked for. Everything is a
function of (features, labels): where the features come from is the caller's.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

HEAD_MAX_EPOCHS = 100
HEAD_MAX_STEPS = 20_000
HEAD_PATIENCE = 10
# Converged: validation loss improving by less than this (nats) for HEAD_PATIENCE epochs. It only bites once the
# loss is already tiny: on separable data it otherwise creeps toward 0 for all HEAD_MAX_EPOCHS (2 heads x 100
# epochs were 30 of a 2,500-image Trainer's 68 s); on 120 breeds (loss ~2) an epoch's gain is far above it.
HEAD_MIN_DELTA = 1e-4

Features = Tuple[np.ndarray, np.ndarray]


@dataclass
class HeadFit:
    """One trained head: the model (its best epoch's weights), its history, and how it did on validation."""
    head: object                 # trainer.settings.HeadParams
    model: object
    history: Dict[str, List[float]]
    best_accuracy: float         # validation accuracy of the kept epoch
    best_epoch: int              # 1-based

    @property
    def best_loss(self) -> float:
        return float(self.history["val_loss"][self.best_epoch - 1]) if self.best_epoch else float("inf")

    def describe(self) -> str:
        shape = (f"{self.head.head_layers} hidden layer(s) of {self.head.head_units}" if self.head.head_layers
                 else "linear")
        return f"{shape}: val accuracy {self.best_accuracy:.4f}, loss {self.best_loss:.4f}"


def images_per_class(labels: np.ndarray, num_classes: int) -> float:
    return float(len(labels)) / max(1, num_classes)


def candidates(head, train_labels: np.ndarray, num_classes: int, linear_below: int) -> Tuple[list, str]:
    """(the heads to train, why): linear alone below `linear_below` photos a class, else linear and `head`."""
    linear = dataclasses.replace(head, head_layers=0)
    if not head.head_layers:
        return [head], "linear head, as configured (--head-layers 0)"
    per_class = images_per_class(train_labels, num_classes)
    counted = f"{len(train_labels)} training images for {num_classes} classes (about {per_class:.0f} a class)"
    if per_class < linear_below:
        return [linear], f"linear head: {counted}, below {linear_below} a class (--linear-head-below)"
    return [linear, head], f"{counted}: the validation split chooses"


def choose(fits: List[HeadFit], examples: int) -> HeadFit:
    """The simplest fit (the first) unless a later one beats it on validation accuracy by more than one
    standard error of that accuracy over `examples` images: a one-image lead is noise, and the bigger
    head is then the likelier to do worse on new photos (at 120 x 9 a class it did: 0.89x the probe)."""
    chosen = fits[0]
    for fit in fits[1:]:
        p = chosen.best_accuracy
        if fit.best_accuracy - p > math.sqrt(max(p * (1.0 - p), 1e-12) / max(1, examples)):
            chosen = fit
    return chosen


def train_heads(keras, train: Features, validation: Features, num_classes: int, heads: list, *,
                batch_size: int, min_epochs: int, log_dir: str,
                class_weight: Optional[Dict[int, float]] = None) -> Tuple[HeadFit, List[HeadFit]]:
    """Trains each head (TensorBoard logs in log_dir, one sub-folder each after the first); (chosen, all)."""
    fits = [train_head(keras, train, validation, num_classes, head, batch_size=batch_size, min_epochs=min_epochs,
                       log_dir=log_dir if i == 0 else os.path.join(log_dir, f"candidate_{i}"),
                       class_weight=class_weight)
            for i, head in enumerate(heads)]
    return choose(fits, len(validation[1])), fits


def train_head(keras, train: Features, validation: Features, num_classes: int, head, *, batch_size: int,
               min_epochs: int, log_dir: str, class_weight: Optional[Dict[int, float]] = None) -> HeadFit:
    """Trains one head alone on pooled features, ending on its best validation-accuracy epoch."""
    from trainer import training
    from trainer.model import build_head_on_features

    x, y = train
    model = build_head_on_features(keras, x.shape[1], num_classes, head)
    keep_best, cbs = training.callbacks(keras, log_dir, stop_on="val_loss", patience=HEAD_PATIENCE,
                                        min_delta=HEAD_MIN_DELTA)
    steps_per_epoch = -(-len(y) // batch_size)
    epochs = max(int(min_epochs), min(HEAD_MAX_EPOCHS, HEAD_MAX_STEPS // steps_per_epoch))
    fit = training.without_autograph(model).fit(x, y, validation_data=validation, epochs=epochs,
                                                batch_size=batch_size, shuffle=True, verbose=0, callbacks=cbs,
                                                class_weight=class_weight)
    return HeadFit(head, model, training.history_of(fit), keep_best.best, keep_best.best_epoch)
