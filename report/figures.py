"""The report's figures, drawn with matplotlib's Agg backend; each function returns PNG bytes.

Every function takes plain Python/numpy inputs (no MLMD, no TF), so they are tested
with synthetic data for 2 and 120 classes.
"""

from __future__ import annotations

import io
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from report.markup import ordered_splits  # noqa: E402

RIGHT = "#1a7f37"
WRONG = "#cf222e"
ANNOTATE_MAX_CLASSES = 20  # per-cell counts in the confusion matrix up to this many classes
PHASE_TITLES = {"phase1_head": "phase 1: head", "phase2_fine_tune": "phase 2: fine-tune"}


def short(name: str, width: int = 18) -> str:
    """Long names keep their start and end (breed ids often differ only at the end)."""
    name = str(name)
    if len(name) <= width:
        return name
    head = (width - 1) // 2
    return name[:head] + "\u2026" + name[len(name) - (width - 1 - head):]


def _png(fig, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _decode(image_bytes: bytes):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(image_bytes)).convert("RGB"))


def curves(history: Dict[str, Dict[str, List[float]]]) -> bytes:
    """Loss and accuracy per epoch, train and validation, phases one after the other."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    phases = [p for p in ("phase1_head", "phase2_fine_tune") if p in history]
    phases += [p for p in history if p not in phases]
    for ax, metric in zip(axes, ("loss", "accuracy")):
        offset = 0
        for i, phase in enumerate(phases):
            values = history[phase]
            n = max((len(v) for v in values.values()), default=0)
            epochs = np.arange(offset + 1, offset + n + 1)
            first = i == 0
            if metric in values:
                ax.plot(epochs[: len(values[metric])], values[metric], "-o", color="C0", ms=4,
                        label="train" if first else None)
            if "val_" + metric in values:
                ax.plot(epochs[: len(values["val_" + metric])], values["val_" + metric], "--s", color="C1", ms=4,
                        label="validation" if first else None)
            if i % 2 == 1:
                ax.axvspan(offset + 0.5, offset + n + 0.5, color="grey", alpha=0.12, lw=0)
            ax.text(offset + 0.6, 1.0, PHASE_TITLES.get(phase, phase), transform=ax.get_xaxis_transform(),
                    va="bottom", fontsize=8, color="dimgrey")
            offset += n
        ax.set_xlim(0.5, offset + 0.5)
        ax.set_title(metric, pad=14)
        ax.set_xlabel("epoch (both phases, in order)")
        ax.grid(alpha=0.3)
        if offset:
            ax.set_xticks(range(1, offset + 1, max(1, offset // 15)))
        if metric == "accuracy":
            ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def confusion(matrix: np.ndarray, class_names: Sequence[str]) -> bytes:
    """Heat map coloured by share of each true class; counts in cells up to 20 classes."""
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    names = [short(class_names[i] if i < len(class_names) else str(i), 22 if n <= 40 else 16) for i in range(n)]
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    side = min(16.0, max(4.5, 0.12 * n + 3.5))
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    step = 1 if n <= 130 else int(np.ceil(n / 120))
    font = 10 if n <= 10 else 8 if n <= 30 else 6 if n <= 60 else 4.5
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xticklabels([names[i] for i in ticks], rotation=90, fontsize=font)
    ax.set_yticklabels([names[i] for i in ticks], fontsize=font)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= ANNOTATE_MAX_CLASSES:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=9 if n <= 10 else 7,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set_title(f"confusion matrix ({int(matrix.sum())} eval examples, {n} classes)")
    return _png(fig)


def top_confusions(matrix: np.ndarray, class_names: Sequence[str], limit: int = 15):
    """[(true, predicted, count, share of true class)], largest off-diagonal counts first."""
    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1)
    pairs = [(int(matrix[i, j]), i, j) for i in range(matrix.shape[0]) for j in range(matrix.shape[1])
             if i != j and matrix[i, j] > 0]
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    name = lambda i: class_names[i] if i < len(class_names) else str(i)  # noqa: E731
    return [(name(i), name(j), count, count / rows[i] if rows[i] else 0.0) for count, i, j in pairs[:limit]]


def data_counts(counts: Dict[str, Dict[str, int]], class_names: Sequence[str]) -> bytes:
    """Images per class, one bar segment per split."""
    splits = ordered_splits(counts)
    classes = list(class_names) or sorted({c for per in counts.values() for c in per})
    n = len(classes)
    fig, ax = plt.subplots(figsize=(min(18, max(6, 0.14 * n + 3)), 4))
    bottom = np.zeros(n)
    for i, split in enumerate(splits):
        values = np.array([counts[split].get(c, 0) for c in classes], dtype=float)
        ax.bar(range(n), values, bottom=bottom, label=split, color=f"C{i}")
        bottom += values
    ax.set_xticks(range(n))
    ax.set_xticklabels([short(c, 20) for c in classes], rotation=90 if n > 8 else 0,
                       fontsize=9 if n <= 30 else 6 if n <= 80 else 4.5)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylabel("images")
    ax.set_title(f"images per class and split ({int(bottom.sum())} in total)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def prediction_grid(images: Sequence[bytes], labels: Sequence[int], predicted: Sequence[int],
                    confidences: Sequence[float], class_names: Sequence[str], columns: int = 6,
                    title: Optional[str] = None) -> bytes:
    """Thumbnails titled true/predicted/confidence, green when right and red when wrong."""
    n = len(images)
    columns = max(1, min(columns, n))
    rows = max(1, int(np.ceil(n / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 2.6 * rows), squeeze=False)
    name = lambda i: short(class_names[i] if i < len(class_names) else str(i), 20)  # noqa: E731
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ok = int(labels[k]) == int(predicted[k])
        color = RIGHT if ok else WRONG
        ax.imshow(_decode(images[k]))
        ax.set_title(f"true: {name(int(labels[k]))}\npred: {name(int(predicted[k]))} ({confidences[k]:.0%})",
                     fontsize=8, color=color)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color(color)
            spine.set_linewidth(4)
        ax.axis("on")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _png(fig, dpi=80)  # photos compress badly in PNG: keep the page small


def top_k(images: Sequence[bytes], probabilities: np.ndarray, labels: Sequence[int],
          class_names: Sequence[str], k: int = 10) -> bytes:
    """One row per image: the image, and a bar chart of its k most probable classes."""
    probabilities = np.asarray(probabilities)
    n = len(images)
    k = max(1, min(k, probabilities.shape[1]))
    fig, axes = plt.subplots(n, 2, figsize=(10, max(2.2, 0.28 * k + 0.8) * n), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 3]})
    name = lambda i: short(class_names[i] if i < len(class_names) else str(i), 24)  # noqa: E731
    for row in range(n):
        image_ax, bar_ax = axes[row]
        p = probabilities[row]
        order = np.argsort(-p)[:k]
        truth = int(labels[row])
        ok = int(order[0]) == truth
        image_ax.imshow(_decode(images[row]))
        image_ax.set_xticks([])
        image_ax.set_yticks([])
        image_ax.set_title(f"true: {name(truth)}", fontsize=9, color=RIGHT if ok else WRONG)
        colors = [RIGHT if int(c) == truth else (WRONG if i == 0 else "#8c959f") for i, c in enumerate(order)]
        bar_ax.barh(range(len(order)), p[order], color=colors)
        bar_ax.set_yticks(range(len(order)))
        bar_ax.set_yticklabels([name(int(c)) for c in order], fontsize=8)
        bar_ax.invert_yaxis()
        bar_ax.set_xlim(0, 1)
        bar_ax.set_xlabel("probability", fontsize=8)
        for i, c in enumerate(order):
            bar_ax.text(min(p[c] + 0.01, 0.9), i, f"{p[c]:.1%}", va="center", fontsize=7)
        rank = int(np.where(np.argsort(-p) == truth)[0][0]) + 1 if truth < len(p) else None
        bar_ax.set_title(f"top-{len(order)}: predicted {name(int(order[0]))} "
                         f"({'right' if ok else 'wrong'}; true class ranked {rank})", fontsize=9,
                         color=RIGHT if ok else WRONG)
    fig.tight_layout()
    return _png(fig, dpi=80)
