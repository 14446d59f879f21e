"""The Evaluator's TFMA results as plain numbers: overall metrics, per-class metrics, confusion matrix."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from contract import evaluation as ev


def label_of(class_names, class_id: int) -> str:
    return class_names[class_id] if class_names and 0 <= class_id < len(class_names) else str(class_id)


def finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


@dataclass
class EvaluationSummary:
    accuracy: Optional[float] = None
    top_k_accuracy: Optional[float] = None   # top-5, for more than 5 classes
    example_count: Optional[int] = None
    confusion: Optional[np.ndarray] = None   # [C, C], rows actual, columns predicted (argmax)
    unpredicted: Optional[np.ndarray] = None  # [C]: examples TFMA counted with no predicted class
    # class -> precision, recall of the argmax (absent when undefined: a class never predicted has no precision), support
    per_class: Dict[str, dict] = field(default_factory=dict)


def per_class_metrics(confusion: np.ndarray, unpredicted: np.ndarray, class_names) -> Dict[str, dict]:
    """{class: {precision, recall, support}} of the argmax, read off the confusion matrix.

    Precision is left out for a class never predicted (0/0), recall for a class with no example."""
    per_class = {}
    for i in range(confusion.shape[0]):
        predicted, support = int(confusion[:, i].sum()), int(confusion[i].sum() + unpredicted[i])
        entry = per_class.setdefault(label_of(class_names, i), {"support": support})
        if predicted:
            entry[ev.PRECISION] = float(confusion[i, i] / predicted)
        if support:
            entry[ev.RECALL] = float(confusion[i, i] / support)
    return per_class


def confusion_matrix(evaluation_uri: str, num_classes: int):
    """(counts [C, C], unpredicted [C]) from TFMA's multi-class confusion matrix plot (argmax, threshold 0)."""
    import tensorflow_model_analysis as tfma

    matrix = None
    for plots in tfma.load_plots(evaluation_uri):
        if plots.slice_key.single_slice_keys:
            continue
        for kv in plots.plot_keys_and_values:
            if kv.key.model_name == ev.BASELINE or not kv.value.HasField("multi_class_confusion_matrix_at_thresholds"):
                continue
            matrices = list(kv.value.multi_class_confusion_matrix_at_thresholds.matrices)
            if matrices:
                matrix = min(matrices, key=lambda m: abs(m.threshold))
    if matrix is None:
        raise ValueError("no multi_class_confusion_matrix_plot in the Evaluator's plots")
    size = max([num_classes] + [max(e.actual_class_id, e.predicted_class_id) + 1 for e in matrix.entries])
    confusion = np.zeros((size, size), dtype=np.int64)
    unpredicted = np.zeros(size, dtype=np.int64)
    for e in matrix.entries:
        n = int(round(e.num_weighted_examples))
        if e.predicted_class_id < 0:  # TFMA's NO_PREDICTED_CLASS_ID
            unpredicted[e.actual_class_id] += n
        else:
            confusion[e.actual_class_id, e.predicted_class_id] += n
    return confusion, unpredicted


def read_evaluation(evaluation_uri: str, class_names: List[str]) -> EvaluationSummary:
    overall = ev.metric_values(evaluation_uri).get(None, {})

    def value(name):
        return overall.get((name, ev.CANDIDATE, False, None))

    count = value(ev.EXAMPLE_COUNT)
    summary = EvaluationSummary(accuracy=value(ev.ACCURACY), top_k_accuracy=value(ev.TOP_K_ACCURACY),
                                example_count=int(count) if count is not None else None)
    summary.confusion, summary.unpredicted = confusion_matrix(evaluation_uri, len(class_names))
    summary.per_class = per_class_metrics(summary.confusion, summary.unpredicted, class_names)
    return summary


def worst_classes(per_class: Dict[str, dict], limit: int = 5):
    """[(class, values)] with the lowest recall first (ties: lower precision, then name)."""
    rated = [(name, v) for name, v in per_class.items() if v.get("support")]
    rated.sort(key=lambda item: (item[1].get(ev.RECALL, 0.0), item[1].get(ev.PRECISION, 0.0), item[0]))
    return rated[:limit]
