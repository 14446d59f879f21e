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
    # class -> precision, recall (absent when undefined: a class never predicted has no precision), support
    per_class: Dict[str, dict] = field(default_factory=dict)


def per_class_metrics(overall: dict, class_names) -> Dict[str, dict]:
    """{class: {precision, recall}} of the candidate; NaN (0/0) values are left out."""
    per_class = {}
    for (name, model, is_diff, class_id), value in overall.items():
        if model == ev.CANDIDATE and not is_diff and class_id is not None and name in (ev.PRECISION, ev.RECALL):
            entry = per_class.setdefault(label_of(class_names, class_id), {})
            if finite(value):
                entry[name] = value
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
                                example_count=int(count) if count is not None else None,
                                per_class=per_class_metrics(overall, class_names))
    summary.confusion, summary.unpredicted = confusion_matrix(evaluation_uri, len(class_names))
    for i, support in enumerate(summary.confusion.sum(axis=1) + summary.unpredicted):
        summary.per_class.setdefault(label_of(class_names, i), {})["support"] = int(support)
    return summary


def worst_classes(per_class: Dict[str, dict], limit: int = 5):
    """[(class, values)] with the lowest recall first (ties: lower precision, then name)."""
    rated = [(name, v) for name, v in per_class.items() if v.get("support")]
    rated.sort(key=lambda item: (item[1].get(ev.RECALL, 0.0), item[1].get(ev.PRECISION, 0.0), item[0]))
    return rated[:limit]
