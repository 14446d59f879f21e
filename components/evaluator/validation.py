"""The candidate's accuracy on the validation split, for the report: no gate, no baseline, no Beam.

The gate is TFMA's, on the test split. Beside it the report shows the same model's accuracy on
the validation split (the split that chose it). That was a second TFMA run; most of a TFMA run on
a small split is building its Beam pipeline (profiled: about half of the Evaluator's time), so the
numbers are computed here directly: the exported model's `serving_tf_example` signature, which
is what TFMA calls, over every record of the split, in batches. The same three numbers TFMA gave:
example count, accuracy of the argmax, and top-5 accuracy for more than 5 classes.
"""

from __future__ import annotations

from typing import List

import numpy as np

import contract
from contract import evaluation as ev

BATCH = 64


def _labels(serialized: List[bytes]) -> np.ndarray:
    import tensorflow as tf

    parsed = tf.io.parse_example(serialized, {contract.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64)})
    return parsed[contract.LABEL_KEY].numpy()


def validation_summary(model_dir: str, record_files: List[str], num_classes: int) -> dict:
    """{example_count, sparse_categorical_accuracy[, top_5_accuracy]} of the model on these records."""
    import tensorflow as tf

    serve = tf.saved_model.load(model_dir).signatures[contract.SIGNATURE_TF_EXAMPLE]
    count = correct = in_top_k = 0
    for batch in contract.record_dataset(record_files).batch(BATCH):
        records = batch.numpy().tolist()
        labels = _labels(records)
        probabilities = serve(**{contract.SERVING_EXAMPLES_INPUT: tf.constant(records)})[
            contract.OUTPUT_PROBABILITIES].numpy()
        count += len(labels)
        correct += int(np.sum(np.argmax(probabilities, axis=1) == labels))
        top_k = np.argsort(-probabilities, axis=1, kind="stable")[:, :ev.TOP_K]
        in_top_k += int(np.sum(np.any(top_k == labels[:, None], axis=1)))
    found = {ev.EXAMPLE_COUNT: count}
    if count:
        found[ev.ACCURACY] = correct / count
        if num_classes > ev.TOP_K:
            found[ev.TOP_K_ACCURACY] = in_top_k / count
    return found
