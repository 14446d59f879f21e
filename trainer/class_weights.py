"""`--class-weights balanced`: weight the loss by inverse class frequency in the training split.

With one class ten times rarer, an unweighted loss is ten times cheaper to get wrong on it, and
the head learns to say it rarely. "balanced" (scikit-learn's rule) gives each class the weight
n / (k * n_c) for n training images, k classes and n_c images of the class: every class then
carries the same total weight. The weights apply to both phases' losses (Keras `class_weight`);
validation accuracy, early stopping and the test split's metrics stay unweighted.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

MODES = ("none", "balanced")


def class_weights(mode: str, labels: np.ndarray, num_classes: int) -> Optional[Dict[int, float]]:
    """{class index: weight} for Keras' fit(class_weight=...), or None for "none"."""
    if mode == "none":
        return None
    if mode != "balanced":
        raise ValueError(f"unknown class weighting {mode!r}; choose one of {MODES}")
    counts = np.bincount(np.asarray(labels).reshape(-1).astype(int), minlength=num_classes)
    present = counts > 0
    n, k = float(counts.sum()), float(present.sum())
    # A class with no training image gets 1.0: it never reaches the loss anyway.
    return {c: (n / (k * counts[c]) if present[c] else 1.0) for c in range(num_classes)}


def describe(weights: Optional[Dict[int, float]]) -> str:
    if not weights:
        return "no class weights"
    values = np.array(list(weights.values()))
    return f"class weights balanced by inverse frequency ({values.min():.2f} to {values.max():.2f})"
