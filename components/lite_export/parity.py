"""The parity gate: each TFLite variant against the SavedModel, on the examples the Evaluator graded.

The SavedModel's predictions are its own graded path (serving_tf_example: Transform's decode and
antialiased resize); each variant gets what an app feeds it (serving/lite_predict.app_pixels: decode,
bilinear resize without antialiasing, uint8). A variant is pushed only if BOTH hold:
- its accuracy drop vs the SavedModel is at most --max-lite-accuracy-drop, and
- the drop is not significant: McNemar's exact one-sided test on the paired outcomes (b = examples
  only the SavedModel gets right, c = only the variant) gives p = P(Binomial(b + c, 1/2) >= b) >= alpha.
"""

from __future__ import annotations

from typing import List

import numpy as np

import contract
from components.evaluator.gate import mcnemar_p_value
from components.lite_export.settings import LiteSettings

BATCH = 32


def saved_model_probabilities(loaded, records: List[bytes]) -> np.ndarray:
    """The SavedModel on serialized tf.Examples through serving_tf_example, what TFMA fed it."""
    import tensorflow as tf

    signature = loaded.signatures[contract.SIGNATURE_TF_EXAMPLE]
    rows = [signature(**{contract.SERVING_EXAMPLES_INPUT: tf.constant(records[i:i + BATCH])})
            [contract.OUTPUT_PROBABILITIES].numpy() for i in range(0, len(records), BATCH)]
    return np.concatenate(rows)


def pixels_probabilities(function, pixels: np.ndarray) -> np.ndarray:
    """The SavedModel's pixels_to_probabilities on uint8 [N, H, W, 3]: the network on an app's resize."""
    return np.concatenate([function(pixels[i:i + BATCH]).numpy() for i in range(0, len(pixels), BATCH)])


def interpreter_probabilities(classifier, pixels: np.ndarray) -> np.ndarray:
    return np.stack([classifier.probabilities(image) for image in pixels])


def compare(reference: np.ndarray, candidate: np.ndarray, labels: np.ndarray) -> dict:
    """Agreement, both accuracies and McNemar's counts of `candidate` vs `reference` (probabilities [N, C])."""
    ref_right = reference.argmax(axis=1) == labels
    cand_right = candidate.argmax(axis=1) == labels
    saved_only, lite_only = int(np.sum(ref_right & ~cand_right)), int(np.sum(cand_right & ~ref_right))
    return {"agreement": float(np.mean(reference.argmax(axis=1) == candidate.argmax(axis=1))),
            "accuracy": float(np.mean(cand_right)), "saved_model_accuracy": float(np.mean(ref_right)),
            "drop": float(np.mean(ref_right) - np.mean(cand_right)),
            "saved_model_only_correct": saved_only, "lite_only_correct": lite_only,
            "p_value": mcnemar_p_value(saved_only, lite_only), "example_count": int(len(labels))}


def verdict(file_name: str, numbers: dict, settings: LiteSettings, split: str) -> dict:
    """numbers + passed + the one sentence the run prints about this variant."""
    drop, p, n = numbers["drop"], numbers["p_value"], numbers["example_count"]
    within = drop <= settings.max_accuracy_drop + 1e-12
    noise = p >= settings.alpha
    head = (f"{split} accuracy {numbers['accuracy']:.4f} vs the SavedModel's {numbers['saved_model_accuracy']:.4f} "
            f"on the same {n} {split} examples (top-1 agreement {numbers['agreement']:.4f})")
    counts = (f"only the SavedModel right on {numbers['saved_model_only_correct']} examples, only the TFLite "
              f"model on {numbers['lite_only_correct']}")
    if within and noise:
        sentence = (f"{file_name} passes the parity gate: {head}, a drop of {max(drop, 0.0):.4f} within the allowed "
                    f"{settings.max_accuracy_drop:.4f} (--max-lite-accuracy-drop) and McNemar one-sided p = {p:.4f} "
                    f">= {settings.alpha} ({counts}).")
    else:
        reasons = []
        if not within:
            reasons.append(f"a drop of {drop:.4f}, more than the allowed {settings.max_accuracy_drop:.4f} "
                           "(--max-lite-accuracy-drop)")
        if not noise:
            reasons.append(f"a significant difference, McNemar one-sided p = {p:.4f} < {settings.alpha}")
        sentence = f"{file_name} was not pushed: {head}, {' and '.join(reasons)} ({counts})."
    return dict(numbers, passed=bool(within and noise), sentence=sentence,
                max_accuracy_drop=settings.max_accuracy_drop, alpha=settings.alpha)
