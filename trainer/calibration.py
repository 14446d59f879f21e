"""Temperature scaling: probabilities that mean what they say, and how far they were from it.

A network trained to a tiny training loss answers 99.9% on nearly everything. Temperature
scaling (Guo et al., 2017) divides the logits by one number T > 0, fitted after training on
the validation split to minimise the negative log-likelihood: the argmax (so the accuracy) is
unchanged, only the confidence moves. The exported graph applies it (trainer/export.py), so
every signature gives calibrated probabilities.

The network outputs softmax probabilities p; log p equals the logits up to a per-example
constant, which softmax ignores, so softmax(log p / T) is the tempered output. In float32,
log p stays exact in absolute terms down to p ~ 1e-38 (a logit gap of ~87), far beyond what a
trained head produces; LOG_FLOOR only keeps an exact 0 finite.

Expected calibration error (ECE, 15 equal-width bins of the top-1 confidence): the average,
weighted by how many examples fall in each bin, of |accuracy - mean confidence| in the bin.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

ECE_BINS = 15
LOG_FLOOR = 1e-38
# The search range of 1/T: T from 0.05 (sharpen 20x) to 100 (flatten 100x).
_INVERSE_T_RANGE = (0.01, 20.0)


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), LOG_FLOOR))


def tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), row by row."""
    z = log_probabilities(probabilities) / float(temperature)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def negative_log_likelihood(log_p: np.ndarray, labels: np.ndarray, inverse_t: float) -> float:
    z = log_p * inverse_t
    z -= z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float((log_norm - z[np.arange(len(labels)), labels]).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray, iterations: int = 60) -> float:
    """The T minimising the NLL of softmax(log p / T) on (probabilities, labels): golden-section search
    over 1/T, on which the NLL is convex (a log-sum-exp of a linear function, minus a linear one)."""
    labels = np.asarray(labels).reshape(-1).astype(int)
    if len(labels) == 0 or (np.asarray(probabilities).argmax(axis=1) == labels).all():
        return 1.0  # none wrong: the NLL falls without end as T -> 0 (no fit; the network's own probabilities)
    log_p = log_probabilities(probabilities)
    low, high = _INVERSE_T_RANGE
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = (negative_log_likelihood(log_p, labels, v) for v in (a, b))
    for _ in range(iterations):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = negative_log_likelihood(log_p, labels, a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = negative_log_likelihood(log_p, labels, b)
    return float(1.0 / ((low + high) / 2.0))


def fit_on(probabilities: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
    """The temperature for these (validation) predictions, with the ECE before and after it on them."""
    t = fit_temperature(probabilities, labels)
    return {"temperature": t, "examples": int(len(labels)),
            "ece_before": expected_calibration_error(probabilities, labels),
            "ece_after": expected_calibration_error(tempered(probabilities, t), labels)}


def tempered_tf(tf, probabilities, temperature: float):
    """softmax(log p / T) in the graph: what the exported model computes (trainer/export.py)."""
    return tf.nn.softmax(tf.math.log(tf.maximum(probabilities, LOG_FLOOR)) / float(temperature), axis=-1)


def confidence_and_correct(probabilities: np.ndarray, labels: np.ndarray):
    probabilities = np.asarray(probabilities)
    return probabilities.max(axis=1), probabilities.argmax(axis=1) == np.asarray(labels).reshape(-1)


def bin_index(confidences: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins over [0, 1]; a confidence of exactly 1 goes in the last bin."""
    return np.minimum((np.asarray(confidences) * bins).astype(int), bins - 1)


def histogram(confidences: np.ndarray, correct: np.ndarray, bins: int):
    """(count, correct count, sum of confidences) per bin."""
    index = bin_index(confidences, bins)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    hits = np.bincount(index, weights=np.asarray(correct, np.float64), minlength=bins)
    total = np.bincount(index, weights=np.asarray(confidences, np.float64), minlength=bins)
    return count, hits, total


def ece_from_histogram(count, hits, total) -> float:
    n = float(np.sum(count))
    if n == 0:
        return 0.0
    return float(np.sum(np.abs(np.asarray(hits) - np.asarray(total))) / n)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    return ece_from_histogram(*histogram(*confidence_and_correct(probabilities, labels), bins))


def reliability(count, hits, total) -> List[Dict[str, float]]:
    """Per bin: its range, how many examples, their mean confidence and their accuracy (None if empty)."""
    bins = len(count)
    return [{"low": i / bins, "high": (i + 1) / bins, "count": int(count[i]),
             "confidence": float(total[i] / count[i]) if count[i] else None,
             "accuracy": float(hits[i] / count[i]) if count[i] else None} for i in range(bins)]


def coarsen(count, hits, total, bins: int):
    """A fine histogram (a multiple of `bins` wide) summed into `bins` equal bins."""
    factor = len(count) // bins
    return tuple(np.asarray(a).reshape(bins, factor).sum(axis=1) for a in (count, hits, total))


def coverage_curve(count, hits) -> List[Dict[str, float]]:
    """Selective prediction from a fine histogram: for each threshold (a bin's low edge), the share
    of examples whose confidence is at least the threshold, and the accuracy on them."""
    bins = len(count)
    kept = np.cumsum(np.asarray(count)[::-1])[::-1]
    right = np.cumsum(np.asarray(hits)[::-1])[::-1]
    n = float(kept[0]) if bins else 0.0
    return [{"threshold": i / bins, "coverage": float(kept[i] / n) if n else 0.0,
             "accuracy": float(right[i] / kept[i]) if kept[i] else None} for i in range(bins)]
