"""Trainer/Tuner progress: the ETA arithmetic, and the callback's lines on a real (tiny) fit."""

import os

import numpy as np

from trainer.progress import PROGRESS_FD_ENV, ProgressClock, epoch_progress, format_duration


class FakeTime:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_eta_counts_the_steps_and_epochs_left():
    now = FakeTime()
    clock = ProgressClock(epochs=3, steps=10, now=now)
    clock.begin_epoch(0)
    assert clock.eta() is None  # nothing to go by yet
    now.t = 20.0
    clock.end_step(4)  # 5 of 10 steps in 20 s: 4 s a step
    assert clock.eta() == 5 * 4 + 2 * 40
    now.t = 40.0
    clock.end_step(9)
    clock.end_epoch()
    assert clock.eta() == 2 * 40
    clock.begin_epoch(1)
    now.t = 50.0
    clock.end_step(9)
    clock.end_epoch()  # a 10 s epoch: the first one (graph building) no longer counts
    assert clock.eta() == 10
    assert "epoch 2/3 step 10/10" in clock.step_text()


def test_unknown_steps_are_learnt_from_the_first_epoch():
    clock = ProgressClock(epochs=2, steps=None, now=FakeTime())
    clock.begin_epoch(0)
    clock.end_step(6)
    assert clock.step_text().startswith("epoch 1/2 step 7") and "/" not in clock.step_text().split("step ")[1]
    clock.end_epoch()
    assert clock.steps == 7


def test_format_duration():
    assert (format_duration(65), format_duration(3725), format_duration(-3)) == ("1:05", "1:02:05", "0:00")


def _fit(keras, epochs=3):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.random.rand(64, 4).astype("float32"), np.random.randint(0, 2, 64)
    model.fit(x, y, batch_size=8, epochs=epochs, validation_data=(x, y), verbose=0,
              callbacks=[epoch_progress(keras, "phase1_head")])


def _progress_lines(tmp_path, monkeypatch, step_line_seconds, epoch_line_seconds=0.0):
    from trainer import keras_compat, progress

    monkeypatch.setattr(progress, "STEP_LINE_SECONDS", step_line_seconds)
    monkeypatch.setattr(progress, "EPOCH_LINE_SECONDS", epoch_line_seconds)
    target = tmp_path / "progress.txt"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT)
    monkeypatch.setenv(PROGRESS_FD_ENV, str(fd))
    try:
        _fit(keras_compat.training_keras())
    finally:
        os.close(fd)
    text = target.read_text()
    assert "\r" not in text  # a file is not a terminal: no redraws
    return text.splitlines()


def test_not_on_a_tty_the_callback_writes_a_line_per_epoch(tmp_path, monkeypatch):
    lines = _progress_lines(tmp_path, monkeypatch, step_line_seconds=1e9)
    assert [line.split(" in ")[0] for line in lines] == [f"[snout]   phase1_head: epoch {i}/3" for i in (1, 2, 3)]
    assert "val_accuracy" in lines[0] and "left" in lines[0] and "left" not in lines[-1]


def test_fast_epochs_print_the_first_and_the_last_only(tmp_path, monkeypatch):
    lines = _progress_lines(tmp_path, monkeypatch, step_line_seconds=1e9, epoch_line_seconds=1e9)
    assert [line.split(" in ")[0] for line in lines] == [f"[snout]   phase1_head: epoch {i}/3" for i in (1, 3)]


def test_step_lines_carry_an_eta(tmp_path, monkeypatch):
    steps = [line for line in _progress_lines(tmp_path, monkeypatch, step_line_seconds=0) if " step " in line]
    assert len(steps) == 3 * 8  # 64 samples / batch 8, every step
    assert steps[1].startswith("[snout]   phase1_head: epoch 1/3 step 2/8, ETA ")


def test_the_callback_is_silent_without_a_progress_fd_and_works_with_keras_3(monkeypatch, capfd):
    from trainer import keras_compat

    monkeypatch.delenv(PROGRESS_FD_ENV, raising=False)
    _fit(keras_compat.tuning_keras(), epochs=1)
    assert "[snout]" not in capfd.readouterr().out
