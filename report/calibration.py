"""The report's calibration section: is a 90% answer right 90% of the time, and what does "unsure" buy?

Reads the Evaluator's `calibration` block of gate.json (components/evaluator/calibration.py):
the temperature fitted on validation, ECE on the graded split before and after it, the 15-bin
reliability of both, and accuracy against coverage as the confidence threshold rises (what
`snout predict --min-confidence` trades). Draws two figures; no TF.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from report import figures as fig
from report.markup import e, img, num, pct, table

FILES = ["reliability.png", "coverage.png"]
COVERAGE_ROWS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)  # thresholds tabulated under the curve


def reliability_figure(block: dict) -> bytes:
    """Accuracy against mean confidence per bin, before and after temperature scaling, with counts."""
    plt = fig.plt
    figure, (ax, counts_ax) = plt.subplots(2, 1, figsize=(6.5, 6.4), sharex=True,
                                           gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ":", color="#8c959f", label="perfectly calibrated")
    width = 1.0 / max(1, len(block.get("reliability_after", [])) or 15)
    for key, label, color, offset in (("reliability_before", "before", fig.WRONG, -0.22),
                                      ("reliability_after", "after", fig.RIGHT, 0.22)):
        bins = [b for b in block.get(key, []) if b.get("count")]
        if not bins:
            continue
        ece = block.get("ece_" + label)
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "-o", color=color, ms=4,
                label=f"{label} temperature scaling (ECE {ece:.3f})" if ece is not None else label)
        counts_ax.bar([(b["low"] + b["high"]) / 2 + offset * width for b in bins], [b["count"] for b in bins],
                      width=width * 0.42, color=color)
    ax.set_ylabel("accuracy in the bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    t = block.get("temperature")
    ax.set_title(f"reliability on the graded split, {block.get('bins', 15)} bins" +
                 (f" (temperature {t:.2f})" if t is not None else ""))
    counts_ax.set_xlabel("top-1 confidence")
    counts_ax.set_ylabel("examples")
    counts_ax.grid(axis="y", alpha=0.3)
    return fig._png(figure)


def coverage_figure(block: dict) -> bytes:
    """Accuracy on the answered examples against the share answered, as the threshold rises."""
    plt = fig.plt
    curve = [c for c in block.get("coverage", []) if c.get("accuracy") is not None]
    figure, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot([c["coverage"] for c in curve], [c["accuracy"] for c in curve], "-", color="C0")
    for threshold in COVERAGE_ROWS[1:]:
        point = at_threshold(curve, threshold)
        if point:
            ax.plot(point["coverage"], point["accuracy"], "o", color="C1", ms=4)
            ax.annotate(f"\u2265{threshold:.0%}", (point["coverage"], point["accuracy"]), fontsize=7,
                        textcoords="offset points", xytext=(4, -10))
    ax.set_xlabel("coverage (share of images answered, not 'unsure')")
    ax.set_ylabel("accuracy on the answered images")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.invert_xaxis()
    ax.grid(alpha=0.3)
    ax.set_title("selective prediction: raising --min-confidence (calibrated probabilities)")
    return fig._png(figure)


def at_threshold(curve: List[dict], threshold: float) -> Optional[dict]:
    """The curve's point for 'answer only at confidence >= threshold' (the last point at or below it)."""
    found = [c for c in curve if c["threshold"] <= threshold + 1e-9]
    return found[-1] if found else None


def figures(block: dict) -> Dict[str, Callable[[], bytes]]:
    """File name -> the function drawing it, for the figures `block` has data for."""
    found = {}
    if block and block.get("reliability_after"):
        found["reliability.png"] = lambda: reliability_figure(block)
    if block and block.get("coverage"):
        found["coverage.png"] = lambda: coverage_figure(block)
    return found


def section(block: dict, figures: Dict[str, bytes], split: str) -> str:
    if not block:
        return "<p>No calibration was recorded for this evaluation (a model or Evaluator before issue 22).</p>"
    t, before, after = block.get("temperature"), block.get("ece_before"), block.get("ece_after")
    parts = [f'<p>Temperature <strong data-key="temperature">{num(t, 3)}</strong>, fitted on the validation split '
             f'after training and built into the exported model. Expected calibration error on the {e(split)} '
             f'split ({block.get("bins", 15)} bins): <span data-key="ece_before">{num(before)}</span> before, '
             f'<strong data-key="ece_after">{num(after)}</strong> after.</p>',
             img(figures, "reliability.png", "reliability diagram before and after temperature scaling")]
    curve = [c for c in block.get("coverage", []) if c.get("accuracy") is not None]
    if curve:
        rows = []
        for threshold in COVERAGE_ROWS:
            point = at_threshold(curve, threshold)
            if point:
                rows.append([f"{threshold:.0%}", pct(point["coverage"]), num(point["accuracy"], 3)])
        parts += [img(figures, "coverage.png", "accuracy against coverage"),
                  "<p>With <code>snout predict --min-confidence P</code>, images below P are labelled "
                  "<code>unsure</code>:</p>",
                  table(["min confidence", "answered", "accuracy on the answered"], rows, "small")]
    return "".join(parts)
