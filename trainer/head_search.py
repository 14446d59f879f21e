"""KerasTuner search over the head, cheap enough to run often.

While the base is frozen and nothing is augmented, an image's pooled base output is
the same in every trial and epoch. So `cached` mode runs the base once over the
data, keeps the pooled features in memory, and searches the head on them: a trial
costs a few small Dense layers, not a CNN. `full` mode rebuilds and runs the whole
network per trial (needed to search the image size or to tune with augmentation).
The winner is always trained as the full network (base + best head) by the Trainer.
"""

import gc
import json
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from trainer import shared_features
from trainer.model import build_classifier, build_head_on_features
from trainer.settings import HeadParams, Network, TunerSettings

ALGORITHMS = ("random", "bayesian", "hyperband")
OBJECTIVE = "val_accuracy"


def search_space(hp) -> HeadParams:
    return HeadParams(
        learning_rate=hp.Float("learning_rate", 1e-4, 3e-3, sampling="log"),
        head_units=hp.Choice("head_units", [64, 128, 256]),
        head_layers=hp.Int("head_layers", 0, 2),  # 0: a linear softmax (trainer/head_choice.py)
        dropout=hp.Float("dropout", 0.0, 0.5, step=0.1),
    )


def embedder(keras, base, augment=None):
    """images -> the frozen base's globally pooled outputs, as one compiled function: reuse it across
    datasets (e.g. one per split) to trace the base once. `augment`: a Keras augmentation model applied
    (in training mode) before the base, for augmented views."""
    import tensorflow as tf

    pool = keras.layers.GlobalAveragePooling2D()

    def embed_batch(images):
        if augment is not None:
            images = augment(images, training=True)
        return pool(base(images, training=False))

    # Compiled once, for any batch size (a short last batch or split traces nothing new): ~2x faster than
    # eager calls. Without autograph: nothing here branches on a tensor, and converting every Keras layer's
    # call took most of the first call (tracing MobileNetV2: 114 s with autograph vs 8 s without, loaded).
    images = tf.TensorSpec([None, *base.input_shape[1:]], tf.float32)
    return tf.function(embed_batch, input_signature=[images], autograph=False)


def pooled_features(keras, datasets, network: Network, base=None, augment=None,
                    embed=None) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Runs the frozen base (+ global average pooling) once over each (images, labels) dataset.

    `base`: the network's own base (the Trainer's), else one is built from `network`. `augment`: see
    `embedder`. `embed`: an `embedder` already traced (then `base` and `augment` are not used).
    """
    from trainer.model import build_base

    if embed is None:
        embed = embedder(keras, base if base is not None else build_base(keras, network), augment)
    return [embed_dataset(dataset, embed)[:2] for dataset in datasets]


def embed_dataset(dataset, embed, also: Optional[Callable] = None):
    """(features, labels, also's outputs or None) of one pass of `embed` over an (images, labels) dataset:
    `also(images)` computes something more of each batch in the same pass (the audit's small pictures)."""
    features, labels, extra = [], [], []
    for images, y in dataset:
        features.append(embed(images).numpy())
        labels.append(np.asarray(y).reshape(-1))
        if also is not None:
            extra.append(np.asarray(also(images)))
    return np.concatenate(features), np.concatenate(labels), np.concatenate(extra) if also is not None else None


def plain_trial_lines() -> None:
    """KerasTuner takes any process without a running IPython shell for a notebook (get_ipython() is
    None, whose class name lacks "Terminal") and "clears" between trials with IPython's clear_output,
    which outside a notebook prints ESC[2K and a carriage return. Outside a notebook: plain lines."""
    from keras_tuner.src import utils

    try:
        import IPython

        in_notebook = IPython.get_ipython() is not None and utils.IS_NOTEBOOK
    except ImportError:
        in_notebook = False
    utils.IS_NOTEBOOK = in_notebook


def make_tuner(keras, settings: TunerSettings, directory: str, project: str, feature_dim: int = 0):
    """A KerasTuner tuner over the head: on pooled features if feature_dim, else the full network."""
    import keras_tuner as kt

    plain_trial_lines()
    num_classes = len(settings.class_names)

    def build(hp):
        head = search_space(hp)
        if feature_dim:
            return build_head_on_features(keras, feature_dim, num_classes, head)
        model, _ = build_classifier(keras, num_classes=num_classes, network=settings.network, head=head)
        return model

    algorithm = settings.algorithm
    common = dict(objective=kt.Objective(OBJECTIVE, "max"), directory=directory, project_name=project,
                  seed=settings.seed, overwrite=True)
    trials = settings.trials
    if algorithm == "random":
        return time_trials(kt.RandomSearch(build, max_trials=trials, **common))
    if algorithm == "bayesian":
        return time_trials(kt.BayesianOptimization(build, max_trials=trials, **common))
    if algorithm == "hyperband":
        # Hyperband sizes its own bracket from max_epochs; trials is an upper bound on its budget.
        return time_trials(kt.Hyperband(build, max_epochs=max(2, settings.epochs), factor=3,
                                        hyperband_iterations=1, **common))
    raise ValueError(f"unknown tuner algorithm {algorithm!r}; choose one of {ALGORITHMS}")


def prepare_search(keras, settings: TunerSettings, train, evaluate, directory: str, project: str):
    """(tuner, fit kwargs) for the configured mode: the one recipe the Tuner component and `snout tune` share.

    `train`/`evaluate` yield (scaled images, labels) batches, uncached. In cached mode (pretrained
    base only: a from-scratch base changes every trial) they are run through the base once.
    """
    from trainer.backbones import get_backbone

    # KerasTuner clears the Keras session before every trial, and that runs gc.collect(), which walks
    # every Python object TensorFlow and TFX ever made: ~1.5 s a call, most of a cached trial's cost.
    # Freezing what exists now takes it out of those walks; only the trials' own objects are scanned.
    gc.freeze()
    if settings.mode == "cached" and get_backbone(settings.network.backbone).pretrained:
        start = time.time()
        shared = shared_features.load(settings.embeddings_uri, settings.network, who="tuner")
        (x_train, y_train), (x_eval, y_eval) = shared or pooled_features(keras, [train, evaluate], settings.network)
        print(f"[snout] tuner: cached {len(x_train) + len(x_eval)} pooled base outputs "
              f"({x_train.shape[1]} features) in {time.time() - start:.1f}s; searching the head on them")
        tuner = make_tuner(keras, settings, directory, project, x_train.shape[1])
        return tuner, {"x": x_train, "y": y_train, "validation_data": (x_eval, y_eval),
                       "batch_size": settings.batch_size}
    print("[snout] tuner: full mode, the base runs in every trial")
    # Decoded images are cached across trials and epochs; only the base is recomputed.
    return make_tuner(keras, settings, directory, project), {"x": train.cache(), "validation_data": evaluate.cache()}


def trials_table(tuner) -> List[Dict]:
    """One row per finished trial: hyperparameters, best val accuracy, seconds (best first)."""
    rows = []
    for trial in tuner.oracle.trials.values():
        metric = trial.metrics.get_best_value(OBJECTIVE) if trial.metrics.exists(OBJECTIVE) else None
        rows.append({"trial": trial.trial_id, "status": str(trial.status), **trial.hyperparameters.values,
                     "val_accuracy": metric, "seconds": getattr(tuner, "trial_seconds", {}).get(trial.trial_id)})
    return sorted(rows, key=lambda r: -1 if r["val_accuracy"] is None else -r["val_accuracy"])


def time_trials(tuner):
    """Records each trial's wall time (KerasTuner keeps none) in tuner.trial_seconds."""
    tuner.trial_seconds = {}
    run_trial = tuner.run_trial

    def timed(trial, *args, **kwargs):
        start = time.time()
        try:
            return run_trial(trial, *args, **kwargs)
        finally:
            tuner.trial_seconds[trial.trial_id] = time.time() - start

    tuner.run_trial = timed
    return tuner


def best_hyperparameters_json(tuner) -> str:
    """The format TFX's Tuner writes (best_hyperparameters.txt): a KerasTuner HyperParameters config."""
    return json.dumps(tuner.get_best_hyperparameters(1)[0].get_config())
