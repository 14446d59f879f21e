"""Likely label errors: out-of-fold class probabilities from a softmax regression on the features,
ranked by confident learning.

Each image's probabilities come from a multinomial logistic regression fitted on the other folds
(k-fold), so an image never grades its own label. Confident learning (Northcutt, Jiang & Chuang,
"Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 2021) then flags the images
whose given label is contradicted: cleanlab 2.9's `find_label_issues` (its default
`filter_by="prune_by_noise_rate"` rule), ranked by self-confidence (the out-of-fold probability
of the given label, lowest first). The suggested label is the most probable class out of fold.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

FOLDS = 5
# The regression sees the top principal components, not all 1,280 features: the same fit at a
# fraction of the cost (25,000 images: seconds per fold), and a milder fit on small sets.
REGRESSION_DIMS = 256
REGULARIZATION_C = 1.0
MAX_ITERATIONS = 300


class LabelIssues(NamedTuple):
    indices: np.ndarray      # flagged images, most likely error first
    suggested: np.ndarray    # [n] most probable class out of fold, for every image
    scores: np.ndarray       # [n] 1 - out-of-fold probability of the given label (higher = likelier wrong)
    probabilities: np.ndarray  # [n, classes] out of fold


def principal_components(features: np.ndarray, dims: int = REGRESSION_DIMS) -> np.ndarray:
    """Rows centred and projected on the top `dims` principal components (scaled to unit variance overall)."""
    from components.audit.near_duplicates import principal_axes

    x = np.asarray(features, dtype=np.float64)
    x = x - x.mean(axis=0)
    _, axes = principal_axes(x, int(min(dims, x.shape[1], max(1, len(x) - 1))))
    projected = x @ axes
    return (projected / (projected.std() + 1e-12)).astype(np.float32)


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, num_classes: int,
                              folds: int = FOLDS, seed: int = 0) -> np.ndarray:
    """[n, num_classes] probabilities, each row from a softmax regression fitted without that image."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    x = principal_components(features)
    labels = np.asarray(labels)
    probabilities = np.full((len(x), num_classes), 1.0 / num_classes)
    smallest = np.bincount(labels, minlength=num_classes)
    folds = int(min(folds, max(2, smallest[smallest > 0].min())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, held_out in splitter.split(x, labels):
        if len(np.unique(labels[train])) < 2:
            continue
        model = LogisticRegression(C=REGULARIZATION_C, max_iter=MAX_ITERATIONS)
        model.fit(x[train], labels[train])
        probabilities[np.ix_(held_out, model.classes_)] = model.predict_proba(x[held_out])
        missing = np.setdiff1d(np.arange(num_classes), model.classes_)
        probabilities[np.ix_(held_out, missing)] = 0.0
    return probabilities


def find_label_issues(features: np.ndarray, labels: np.ndarray, num_classes: int, folds: int = FOLDS,
                      seed: int = 0) -> LabelIssues:
    """Confident learning on out-of-fold probabilities (cleanlab's rule), most likely error first."""
    from cleanlab.filter import find_label_issues as cleanlab_find

    labels = np.asarray(labels, dtype=np.int64)
    probabilities = out_of_fold_probabilities(features, labels, num_classes, folds=folds, seed=seed)
    scores = 1.0 - probabilities[np.arange(len(labels)), labels]
    suggested = probabilities.argmax(axis=1)
    present = np.unique(labels)
    if len(present) < 2 or len(labels) < 2 * num_classes:
        return LabelIssues(np.zeros(0, np.int64), suggested, scores, probabilities)
    # cleanlab wants every class of the probabilities present in the labels: audit the classes present.
    remap = {c: i for i, c in enumerate(present)}
    sub = probabilities[:, present]
    sub = sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)
    # n_jobs=1: by default cleanlab forks a worker per core, and each fork of the pipeline's process (TensorFlow
    # loaded, ~1.4 GB at 2,500 images) counted as its own RSS: bench_scale's peak, for work of milliseconds.
    flagged = cleanlab_find(np.array([remap[c] for c in labels]), sub,
                            return_indices_ranked_by="self_confidence", n_jobs=1)
    return LabelIssues(np.asarray(flagged, dtype=np.int64), suggested, scores, probabilities)
