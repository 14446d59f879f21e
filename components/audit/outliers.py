"""Outliers: images that fit no class well.

Score: 1 - the highest cosine between an image's pooled features and a class centroid (the mean
unit feature vector of the images given that class). An image is an outlier when its score is
unusual for the collection: above the median by OUTLIER_MADS robust standard deviations
(1.4826 x the median absolute deviation). Raw features here, not whitened ones: whitening
stretches exactly the rare directions an outlier stands out in, and made every image look
unusual (bench/calibrate_audit.py: planted non-cat/dog images found 1.00 raw vs 0.33-0.69 whitened).
"""

from __future__ import annotations

import numpy as np

OUTLIER_MADS = 3.0


def unit_rows(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def centroid_distance(features: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """[n] 1 - the highest cosine between each row and a class centroid of the given labels."""
    unit = unit_rows(features)
    centroids = np.zeros((num_classes, unit.shape[1]), dtype=np.float64)
    for c in range(num_classes):
        members = unit[labels == c]
        if len(members):
            mean = members.mean(axis=0)
            centroids[c] = mean / max(np.linalg.norm(mean), 1e-12)
    return 1.0 - (unit @ centroids.T).max(axis=1)


def robust_cutoff(scores: np.ndarray, mads: float = OUTLIER_MADS) -> float:
    median = float(np.median(scores))
    spread = 1.4826 * float(np.median(np.abs(scores - median)))
    return median + mads * max(spread, 1e-6)


def find_outliers(features: np.ndarray, labels: np.ndarray, num_classes: int):
    """(indices of outliers, most unusual first; [n] scores)."""
    scores = centroid_distance(features, np.asarray(labels), num_classes)
    flagged = np.nonzero(scores > robust_cutoff(scores))[0]
    return flagged[np.argsort(-scores[flagged])], scores
