"""A Trainer run as a TensorBoard HParams session: its settings and final metrics.

`tensorboard --logdir <workspace>/pipeline_root/Trainer` then lists every run in its HParams
dashboard. Under each run's ModelRun dir (beside the Keras callback's phase folders):

    model_run/<id>/hparams/        the session: settings, and the validation metrics of the model
                                   the Trainer ships (written by the Trainer when it ends)
    model_run/<id>/hparams/test/   the Evaluator's test metrics (metric group "test"), written
                                   afterwards by `snout compare` from the Evaluator's output

The Trainer never reads the test split (it chooses the model on validation), so test numbers
can only come later, from the Evaluator; a sub-folder of the session is how the dashboard
attaches them to the same row.
"""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional

SESSION_DIR = "hparams"
TEST_GROUP = "test"
PHASES = ("phase1_head", "phase2_fine_tune")


def settings_values(settings, head, tuned: bool) -> Dict[str, object]:
    """The run's settings (a TrainerSettings, with the head it trained) as HParams values: str, int, float, bool."""
    network = settings.network
    values = {
        "backbone": network.backbone, "weights": os.path.basename(network.weights), "image_size": network.image_size,
        "head_units": head.head_units, "head_layers": head.head_layers, "dropout": head.dropout,
        "learning_rate": head.learning_rate, "tuned": bool(tuned), "epochs": settings.epochs,
        "fine_tune_epochs": settings.fine_tune_epochs, "fine_tune_layers": settings.fine_tune_layers,
        "fine_tune_lr_factor": settings.fine_tune_lr_factor, "augment_strength": settings.augment_strength,
        "batch_size": settings.batch_size, "seed": settings.seed, "linear_head_below": settings.linear_head_below,
        "class_weights": settings.class_weights, "calibrate": bool(settings.calibrate),
    }
    if network.hub_handle:
        values["hub_handle"] = network.hub_handle
    return values


def shipped_validation(history: Mapping) -> Dict[str, Optional[float]]:
    """Validation accuracy and loss of the epoch that ships: each phase restores its best val_accuracy
    epoch, and phase 2 ships only when it was kept."""
    phase = PHASES[1] if history.get("phase2_kept") and PHASES[1] in history else PHASES[0]
    values = history.get(phase, {})
    accuracy = list(values.get("val_accuracy", []))
    if not accuracy:
        return {"validation_accuracy": None, "validation_loss": None}
    best = max(range(len(accuracy)), key=lambda i: accuracy[i])
    loss = list(values.get("val_loss", []))
    return {"validation_accuracy": float(accuracy[best]),
            "validation_loss": float(loss[best]) if best < len(loss) else None}


def training_record(history: Mapping, classifier, seconds: float) -> Dict[str, object]:
    """What the Trainer did, for the provenance file and the session: time, size, epochs run."""
    import numpy as np

    trainable = int(sum(int(np.prod(w.shape)) for w in classifier.trainable_weights))  # in the last phase
    record = {"training_seconds": round(float(seconds), 2), "params": int(classifier.count_params()),
              "trainable_params": trainable, "phase2_kept": history.get("phase2_kept")}
    for phase in PHASES:
        if phase in history:
            record[f"{phase}_epochs"] = len(next(iter(history[phase].values()), []))
    record.update(shipped_validation(history))
    return record


def write_session(session_dir: str, settings: Mapping[str, object], metrics: Mapping[str, object],
                  trial_id: str) -> None:
    """One HParams session: settings via the hparams summary API, metrics as scalars beside them."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    writer = tf.summary.create_file_writer(session_dir)
    with writer.as_default():
        hp.hparams(dict(settings), trial_id=trial_id)
        _scalars(metrics)
    writer.close()


def _scalars(metrics: Mapping[str, object]) -> None:
    import tensorflow as tf

    for name, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            tf.summary.scalar(name, float(value), step=0)


def write_training_summary(model_run_dir: str, settings, head, tuned: bool, history: Mapping, classifier,
                           seconds: float) -> Dict[str, object]:
    """The Trainer's one call: writes the session; returns its record and settings (for the provenance file)."""
    record, values = training_record(history, classifier, seconds), settings_values(settings, head, tuned)
    trial = f"Trainer {os.path.basename(model_run_dir.rstrip('/'))}"
    write_session(os.path.join(model_run_dir, SESSION_DIR), values, record, trial)
    return dict(record, settings=values)


def write_test_metrics(model_run_dir: str, metrics: Mapping[str, object]) -> str:
    """The Evaluator's test metrics into the run's session (group "test"); replaces an earlier copy."""
    import tensorflow as tf

    folder = os.path.join(model_run_dir, SESSION_DIR, TEST_GROUP)
    if tf.io.gfile.isdir(folder):
        for name in tf.io.gfile.listdir(folder):
            if name.startswith("events.out.tfevents"):
                tf.io.gfile.remove(os.path.join(folder, name))
    writer = tf.summary.create_file_writer(folder)
    with writer.as_default():
        _scalars(metrics)
    writer.close()
    return folder
