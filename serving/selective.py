"""Selective prediction: below a confidence the user sets, the answer is `unsure` (the probabilities stay).

The exported model's probabilities are calibrated (temperature scaling, trainer/calibration.py), so
a threshold P means what it says: on the test split, the report's accuracy-against-coverage curve
shows how many images each P leaves unanswered and how accurate the answered ones are.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from contract import UNSURE_LABEL


def check_min_confidence(value: Optional[float]) -> Optional[str]:
    """The one-line complaint about --min-confidence, or None when it is valid (or not given)."""
    if value is None or 0.0 <= value <= 1.0:
        return None
    return f"--min-confidence {value} is out of range: it must be >= 0 and <= 1"


def is_unsure(confidence: float, min_confidence: Optional[float]) -> bool:
    return min_confidence is not None and float(confidence) < float(min_confidence)


def label_or_unsure(probabilities: Sequence[float], class_names: Sequence[str],
                    min_confidence: Optional[float]) -> Tuple[str, float]:
    """(top-1 class name, or `unsure` when its probability is below min_confidence; that probability)."""
    best = max(range(len(probabilities)), key=lambda i: float(probabilities[i]))
    confidence = float(probabilities[best])
    name = class_names[best] if best < len(class_names) else f"class_{best}"
    return (UNSURE_LABEL if is_unsure(confidence, min_confidence) else name), confidence
