"""Epoch and step progress with an estimate of the time left, for the Trainer and Tuner.

The Trainer runs inside `snout run`'s process (LocalDagRunner), whose stdout goes to the
run's log file: the CLI puts the terminal's file descriptor in $SNOUT_PROGRESS_FD and this
callback writes there. Without it (tests, TFX's own processes) the callback is silent.
On a terminal a step line is redrawn in place; elsewhere (a CI log) it prints one line per
epoch and at most one step line every STEP_LINE_SECONDS.
"""

import os
import time

PROGRESS_FD_ENV = "SNOUT_PROGRESS_FD"
STEP_LINE_SECONDS = 30.0
# Short epochs (the head on cached features runs dozens in seconds) print a line at most this
# often; the first and the last epoch always print, so a run fits on a screen.
EPOCH_LINE_SECONDS = 10.0
REDRAW_SECONDS = 0.5


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressClock:
    """Epoch/step bookkeeping and the ETA; no Keras in here so it is easy to test."""

    def __init__(self, epochs: int, steps=None, now=time.monotonic):
        self.epochs, self.steps, self.now = epochs, steps, now
        self.epoch, self.step = 0, 0
        self.start = self.epoch_start = now()
        self.epoch_seconds = []

    def begin_epoch(self, epoch: int) -> None:
        self.epoch, self.step, self.epoch_start = epoch, 0, self.now()

    def end_step(self, step: int) -> None:
        self.step = step + 1

    def end_epoch(self) -> None:
        self.epoch_seconds.append(self.now() - self.epoch_start)
        if self.steps is None:
            self.steps = self.step  # a dataset of unknown length: learnt from the first epoch

    def typical_epoch(self):
        """Seconds an epoch takes; the first one also builds graphs and fills caches, so it
        counts only until there is another."""
        later = self.epoch_seconds[1:] or self.epoch_seconds
        return sum(later) / len(later) if later else None

    def eta(self):
        """Seconds left in the whole fit, or None before there is anything to go by."""
        if self.epoch_seconds and self.step in (0, self.steps):  # between epochs
            return self.typical_epoch() * (self.epochs - len(self.epoch_seconds))
        if not self.steps or not self.step:
            return None
        per_step = (self.now() - self.epoch_start) / self.step
        per_epoch = self.typical_epoch() or per_step * self.steps
        return per_step * (self.steps - self.step) + per_epoch * (self.epochs - self.epoch - 1)

    def step_text(self) -> str:
        of_steps = f"/{self.steps}" if self.steps else ""
        eta = self.eta()
        return (f"epoch {self.epoch + 1}/{self.epochs} step {self.step}{of_steps}"
                + (f", ETA {format_duration(eta)}" if eta is not None else ""))


def _metrics_text(logs) -> str:
    wanted = ("loss", "accuracy", "val_loss", "val_accuracy")
    return " ".join(f"{k} {float(logs[k]):.3f}" for k in wanted if k in (logs or {}))


def epoch_progress(keras, label: str):
    """A Keras callback (for `keras`, tf_keras or Keras 3) printing `label`'s progress."""

    class EpochProgress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.label = label
            self.clock = None
            self._last_line = 0.0
            self._last_epoch_line = 0.0
            self._held = None  # an epoch line not printed yet (throttled)

        def _write(self, text: str, redraw: bool = False) -> None:
            fd = os.environ.get(PROGRESS_FD_ENV)
            if not fd:
                return
            try:
                os.write(int(fd), ("\r\033[K" if self._tty(fd) else "").encode() + text.encode()
                         + (b"" if redraw else b"\n"))
            except (OSError, ValueError):
                pass  # progress must never break training

        @staticmethod
        def _tty(fd: str) -> bool:
            try:
                return os.isatty(int(fd))
            except (OSError, ValueError):
                return False

        def on_train_begin(self, logs=None):
            self.clock = ProgressClock(int(self.params.get("epochs") or 1), self.params.get("steps"))
            self._last_line = time.monotonic()

        def on_epoch_begin(self, epoch, logs=None):
            self.clock.begin_epoch(epoch)

        def on_train_batch_end(self, batch, logs=None):
            self.clock.end_step(batch)
            now = time.monotonic()
            fd = os.environ.get(PROGRESS_FD_ENV)
            interval = REDRAW_SECONDS if fd and self._tty(fd) else STEP_LINE_SECONDS
            if now - self._last_line >= interval:
                self._last_line = now
                self._write(f"[snout]   {self.label}: {self.clock.step_text()}", redraw=self._tty(fd or ""))

        def on_epoch_end(self, epoch, logs=None):
            self.clock.end_epoch()
            eta = self.clock.eta()
            left = f", {format_duration(eta)} left" if eta else ""
            self._held = (f"[snout]   {self.label}: epoch {epoch + 1}/{self.clock.epochs} in "
                          f"{self.clock.epoch_seconds[-1]:.1f}s, {_metrics_text(logs)}{left}")
            now = time.monotonic()
            if epoch == 0 or now - self._last_epoch_line >= EPOCH_LINE_SECONDS:
                self._write(self._held)
                self._held, self._last_epoch_line = None, now

        def on_train_end(self, logs=None):
            if self._held:  # the last epoch (early stopping included) always shows
                self._write(self._held)
                self._held = None

    return EpochProgress()
