"""`--class-weights balanced` (trainer/class_weights.py): a class 10x rarer in train is found more often.

Generated pooled features (4 overlapping classes; class 0 has a tenth of the others' training
images, validation is balanced) train the phase-1 head (trainer/head_choice.train_head) twice,
unweighted and weighted by inverse class frequency.
"""

import numpy as np
import pytest

import trainer.keras_compat as keras_compat
import tensorflow as tf

from trainer import class_weights, head_choice
from tests.fixtures.settings import head as head_params

DIM, CLASSES = 16, 4


def _features(counts, rng):
    means = np.eye(CLASSES, DIM) * 1.6
    labels = np.repeat(np.arange(CLASSES), counts)
    return (means[labels] + rng.normal(0, 1.0, (len(labels), DIM))).astype("float32"), labels


def test_balanced_weights_by_hand():
    weights = class_weights.class_weights("balanced", np.array([0, 1, 1, 1, 1, 2, 2, 2, 2, 2]), 4)
    # n / (k * n_c) over the 3 classes present; the absent class 3 gets 1.0.
    assert weights == pytest.approx({0: 10 / 3, 1: 10 / 12, 2: 10 / 15, 3: 1.0})
    assert class_weights.class_weights("none", np.array([0, 1]), 2) is None
    with pytest.raises(ValueError):
        class_weights.class_weights("inverse", np.array([0, 1]), 2)


def test_rare_class_recall_improves_with_balanced_weights(tmp_path):
    keras = keras_compat.training_keras()
    rng = np.random.default_rng(0)
    train = _features([20, 200, 200, 200], rng)
    validation = _features([100] * CLASSES, rng)
    recalls = {}
    for mode in class_weights.MODES:
        tf.keras.utils.set_random_seed(1)
        weights = class_weights.class_weights(mode, train[1], CLASSES)
        head = head_params(head_layers=0, learning_rate=0.02)  # a high rate: converged in few epochs
        model = head_choice.train_head(keras, train, validation, CLASSES, head, batch_size=128, min_epochs=5,
                                       log_dir=str(tmp_path / mode), class_weight=weights).model
        predicted = model.predict(validation[0], verbose=0).argmax(1)
        recalls[mode] = float((predicted[validation[1] == 0] == 0).mean())
    assert recalls["balanced"] >= recalls["none"] + 0.15, recalls
