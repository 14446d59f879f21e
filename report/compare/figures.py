"""The comparison's figures: every run's curves overlaid, and the photos the runs disagree on.

Plain inputs (lists, numpy), PNG bytes out, drawn with the report's helpers (report/figures.py).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

from report.figures import PHASE_TITLES, RIGHT, WRONG, _decode, _png, plt, short

PHASES = ("phase1_head", "phase2_fine_tune")
METRICS = ("loss", "accuracy")


def overlaid_curves(histories: Sequence[Tuple[str, Dict[str, Dict[str, List[float]]]]]) -> bytes:
    """Rows loss and accuracy, columns phase 1 and phase 2, each row on one y axis: a colour per run,
    train solid, validation dashed."""
    phases = [p for p in PHASES if any(p in h for _, h in histories)] or [PHASES[0]]
    fig, axes = plt.subplots(len(METRICS), len(phases), figsize=(6.2 * len(phases), 7.6), squeeze=False,
                             sharey="row")
    for col, phase in enumerate(phases):
        for row, metric in enumerate(METRICS):
            ax, longest = axes[row][col], 1
            for i, (name, history) in enumerate(histories):
                values = history.get(phase, {})
                for key, style in ((metric, "-"), ("val_" + metric, "--")):
                    if values.get(key):
                        epochs = np.arange(1, len(values[key]) + 1)
                        longest = max(longest, len(epochs))
                        ax.plot(epochs, values[key], style, color=f"C{i}", lw=1.6, marker="o" if len(epochs) < 30
                                else None, ms=3, label=f"{name} {'train' if style == '-' else 'validation'}")
            ax.set_title(f"{metric}, {PHASE_TITLES.get(phase, phase)}")
            ax.set_xlabel("epoch")
            ax.set_xlim(0.5, longest + 0.5)
            ax.set_xticks(range(1, longest + 1, max(1, longest // 12)))
            ax.grid(alpha=0.3)
            if metric == "accuracy":
                ax.set_ylim(0, 1.02)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes.flat[1:]:  # a run with phase 2 only in the second column
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(labels) - 1) // 4), 1, 1))
    return _png(fig)


def disagreement_grid(images: Sequence[bytes], labels: Sequence[int], answers: Sequence[Tuple[str, Sequence[int]]],
                      class_names: Sequence[str], columns: int = 6, title: str = "") -> bytes:
    """Thumbnails of photos the runs answer differently: the true class above, each run's answer below,
    green when right and red when wrong."""
    n = len(images)
    columns = max(1, min(columns, n))
    rows = max(1, int(np.ceil(n / columns)))
    side, line, head = 2.0, 0.2, 0.6  # inches: thumbnail, one text line, the figure's title
    gap = line * (len(answers) + 1.5)  # below each thumbnail: its answers; above the next: its true class
    height = head + rows * (side + gap)
    fig, axes = plt.subplots(rows, columns, squeeze=False, figsize=(2.3 * columns, height))
    fig.subplots_adjust(left=0.01, right=0.99, top=1 - (head + line) / height, bottom=(gap - line) / height,
                        wspace=0.08, hspace=gap / side)
    name = lambda i: short(class_names[i] if 0 <= i < len(class_names) else str(i), 16)  # noqa: E731
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(_decode(images[k]))
        truth = int(labels[k])
        ax.set_title(f"true: {name(truth)}", fontsize=8, pad=2)
        for j, (run, predicted) in enumerate(answers):
            ok = int(predicted[k]) == truth
            ax.text(0.5, -0.02 - j * line / side, f"{run}: {name(int(predicted[k]))}", transform=ax.transAxes,
                    ha="center", va="top", fontsize=8, color=RIGHT if ok else WRONG, fontweight="bold")
    if title:
        fig.suptitle(title, y=1 - 0.15 / height, va="top")
    return _png(fig, dpi=80)
