"""Why it erred: Grad-CAM heatmaps of the predicted and the true class for the report's mistakes.

The exported model carries a saved function (contract.CLASS_ACTIVATION_FUNCTION, built by
trainer/gradcam.py on the base's last convolutional block) beside its serving signatures; the
report calls it on the mistakes' image bytes, once for the predicted and once for the true
class, and draws image | predicted-class map | true-class map side by side. A model without the
function (older, or a TF Hub base without spatial maps) gets no heatmaps, and the page says so.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

import contract
from report import figures as fig
from report.markup import e, img

FILE = "gradcam.png"


def compute(model, images: Sequence[bytes], predicted: Sequence[int],
            labels: Sequence[int]) -> Optional[List[Tuple[np.ndarray, np.ndarray]]]:
    """[(map of the predicted class, map of the true class)] per image, or None if the model has no maps."""
    import tensorflow as tf

    maps_fn = getattr(model, contract.CLASS_ACTIVATION_FUNCTION, None)
    if maps_fn is None or not len(images):
        return None
    batch = tf.constant(list(images) * 2, dtype=tf.string)
    classes = tf.constant([int(c) for c in predicted] + [int(c) for c in labels], dtype=tf.int64)
    maps = maps_fn(batch, classes).numpy()
    n = len(images)
    return [(maps[i], maps[n + i]) for i in range(n)]


def _overlay(image: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """The image with the heatmap (upsampled smoothly to its size) blended over it in a colour map."""
    from PIL import Image

    h, w = image.shape[:2]
    up = np.asarray(Image.fromarray((np.clip(heatmap, 0, 1) * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC))
    colours = fig.plt.get_cmap("jet")(up / 255.0)[..., :3]
    return np.clip(0.55 * image / 255.0 + 0.45 * colours, 0, 1)


def grid(images: Sequence[bytes], maps: Sequence[Tuple[np.ndarray, np.ndarray]], labels: Sequence[int],
         predicted: Sequence[int], confidences: Sequence[float], class_names: Sequence[str]) -> bytes:
    """Two mistakes a row, each as: image | where it saw the predicted class | where it saw the true class."""
    plt = fig.plt
    n = len(images)
    per_row = 2 if n > 1 else 1
    rows = int(np.ceil(n / per_row))
    figure, axes = plt.subplots(rows, 3 * per_row, figsize=(2.1 * 3 * per_row, 2.4 * rows), squeeze=False)
    name = lambda i: fig.short(class_names[i] if i < len(class_names) else str(i), 16)  # noqa: E731
    for ax in axes.flat:
        ax.axis("off")
    for k in range(n):
        row, col = divmod(k, per_row)
        image = fig._decode(images[k]).astype(np.float32)
        panels = [(image / 255.0, f"true {name(int(labels[k]))}", "black"),
                  (_overlay(image, maps[k][0]), f"pred {name(int(predicted[k]))} ({confidences[k]:.0%})", fig.WRONG),
                  (_overlay(image, maps[k][1]), f"true {name(int(labels[k]))}", fig.RIGHT)]
        for j, (picture, title, colour) in enumerate(panels):
            ax = axes[row, 3 * col + j]
            ax.imshow(picture)
            ax.set_title(title, fontsize=7, color=colour)
    figure.suptitle("Grad-CAM: image | where the network saw the predicted class | where it saw the true class",
                    fontsize=9)
    figure.tight_layout()
    return fig._png(figure, dpi=80)


def chosen(predictions, indices: Sequence[int]) -> List[int]:
    """The indices (in the mistakes grid's order) that have maps."""
    maps = getattr(predictions, "heatmaps", None) or {}
    return [i for i in indices if i in maps]


def figure(predictions, indices: Sequence[int], class_names: Sequence[str]) -> bytes:
    picked = chosen(predictions, indices)
    probs, maps = predictions.probabilities, predictions.heatmaps
    return grid([predictions.images[i] for i in picked], [maps[i] for i in picked],
                [predictions.labels[i] for i in picked], [int(probs[i].argmax()) for i in picked],
                [float(probs[i].max()) for i in picked], class_names)


def section(predictions, figures: Dict[str, bytes]) -> str:
    if predictions is None:
        return "<p>The model was not run on images (see Misclassified images).</p>"
    if not predictions.wrong:
        return "<p>No mistakes among the images run: nothing to explain.</p>"
    if not predictions.heatmaps:
        return f"<p>No heatmaps: {e(predictions.heatmap_note or 'not computed')}.</p>"
    seconds = predictions.heatmap_seconds
    return (f'<p>Grad-CAM on the base\'s last convolutional block for the <span data-key="heatmaps">'
            f'{len(predictions.heatmaps)}</span> most confident mistakes ('
            + (f"computed in {seconds:.1f} s " if seconds is not None else "computed ")
            + f"by the exported model's own <code>{e(contract.CLASS_ACTIVATION_FUNCTION)}</code> function): red and blue "
            "warm colours mark where the evidence for the predicted class (middle) and the true class (right) lay. "
            "A map on the background, not the "
            "animal, points at a shortcut the network learnt.</p>"
            + img(figures, FILE, "Grad-CAM maps of the predicted and the true class"))
