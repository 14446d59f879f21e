"""A quiet terminal: snout's own lines on the terminal, everything else in a log file.

TensorFlow's C++ logging and Beam's worker processes write straight to file descriptors
1 and 2, so swapping sys.stdout is not enough: the descriptors themselves are pointed at
`<workspace>/logs/<command>-<time>.log` (os.dup2), and snout keeps a duplicate of the real
terminal for its own lines. `--verbose` leaves everything on the terminal.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
from typing import Optional

from contract.errors import UserError
from trainer.progress import PROGRESS_FD_ENV

SNOUT_PREFIX = "[snout]"


class _Tee(io.TextIOBase):
    """snout's stdout: the terminal, and a copy in the log so the log tells the whole story."""

    def __init__(self, terminal, log):
        self.terminal, self.log = terminal, log

    def write(self, text: str) -> int:
        if "\r" not in text:  # a redraw (progress in place) is for the screen only
            self.log.write(text)
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()
        self.log.flush()

    def fileno(self) -> int:
        return self.terminal.fileno()

    def isatty(self) -> bool:
        return self.terminal.isatty()


class _LineRouter(io.TextIOBase):
    """Library output goes to the log, line by line; snout's own lines ("[snout] ...") and
    progress-bar redraws (writes with a carriage return, e.g. tqdm) go to the terminal.
    A redraw goes to the terminal only: the log would get every frame."""

    def __init__(self, log, terminal):
        self.log, self.terminal = log, terminal
        self._pending = ""
        self._redrawing = False

    def write(self, text: str) -> int:
        if "\r" in text or (self._redrawing and text and not text.strip()):
            self._redrawing = True
            return self.terminal.write(text)
        self._redrawing = False
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._route(line + "\n")
        return len(text)

    def _route(self, line: str) -> None:  # `terminal` is a _Tee: snout's lines reach the log too
        (self.terminal if line.startswith(SNOUT_PREFIX) else self.log).write(line)

    def flush(self) -> None:
        if self._pending:
            self._route(self._pending)
            self._pending = ""
        self.terminal.flush()
        self.log.flush()

    def fileno(self) -> int:  # tqdm asks for the terminal's width
        return self.terminal.fileno()

    def isatty(self) -> bool:
        return self.terminal.isatty()


class Console:
    """Where a command's output goes. `terminal` is always the user's screen."""

    def __init__(self, terminal, log=None, log_path: Optional[str] = None):
        self.terminal, self.log, self.log_path = terminal, log, log_path

    @staticmethod
    def current() -> "Console":
        """The active command's console (plain stdout outside `snout`, e.g. in tests)."""
        return _ACTIVE[-1] if _ACTIVE else Console(sys.stdout)

    @contextlib.contextmanager
    def libraries_speaking(self):
        """While third-party code runs (the TFX DAG: Keras' fit lines, TFX prints), its
        stdout goes to the log; snout's own lines and progress still reach the terminal."""
        if self.log is None:
            yield
            return
        previous, sys.stdout = sys.stdout, _LineRouter(self.log, self.terminal)
        try:
            yield
        finally:
            sys.stdout = previous


_ACTIVE = []


def _fd_of(stream) -> Optional[int]:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None  # e.g. pytest's capture objects


def _terminal_stream(current, saved_fd: int, fd: int):
    """A stream to the real terminal: a fresh one on the saved duplicate when `current`
    writes to descriptor `fd` (about to be redirected), else `current` itself."""
    if _fd_of(current) != fd:
        return current
    return open(saved_fd, "w", buffering=1, closefd=False, encoding=getattr(current, "encoding", None),
                errors="backslashreplace")


def log_path_for(command: str, log_dir: str) -> str:
    return os.path.join(os.path.abspath(log_dir), f"{command}-{time.strftime('%Y%m%d-%H%M%S')}.log")


@contextlib.contextmanager
def quiet_output(command: str, log_dir: str, verbose: bool = False):
    """Runs the block with descriptors 1/2 and Python's stderr sent to a new log file in
    `log_dir`; yields a Console. A crash writes its traceback to the log and, after the
    terminal is restored, names the log (the traceback itself then reaches the terminal)."""
    if verbose:
        out_fd = _fd_of(sys.stdout)
        with _progress_fd(out_fd), _active(Console(sys.stdout)) as console:
            yield console
        return
    path = log_path_for(command, log_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal_out = _terminal_stream(sys.stdout, saved[1], 1)
    terminal_err = _terminal_stream(sys.stderr, saved[2], 2)
    log = open(os.dup(log_fd), "a", buffering=1, errors="backslashreplace")
    previous = sys.stdout, sys.stderr
    failed = False
    print(f"{SNOUT_PREFIX} log: {path} (--verbose shows it here)", file=terminal_out, flush=True)
    for fd in (1, 2):
        os.dup2(log_fd, fd)
    sys.stdout, sys.stderr = _Tee(terminal_out, log), _LineRouter(log, _Tee(terminal_err, log))
    try:
        with _progress_fd(_fd_of(terminal_out)), _active(Console(sys.stdout, log, path)) as console:
            yield console
    except (UserError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        failed = True
        log.write(traceback.format_exc())
        raise
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = previous
        for fd in (1, 2):
            os.dup2(saved[fd], fd)
        for stream in (terminal_out, terminal_err):
            if stream not in previous:
                stream.close()
        log.close()
        for fd in (log_fd, *saved.values()):
            os.close(fd)
        if failed:
            print(f"snout {command}: failed; the full log is {path}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _progress_fd(fd: Optional[int]):
    """Tells trainer/progress.py (running in this process, under TFX) where the terminal is."""
    previous = os.environ.get(PROGRESS_FD_ENV)
    if fd is not None:
        os.environ[PROGRESS_FD_ENV] = str(fd)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(PROGRESS_FD_ENV, None)
        else:
            os.environ[PROGRESS_FD_ENV] = previous


@contextlib.contextmanager
def _active(console: Console):
    _ACTIVE.append(console)
    try:
        yield console
    finally:
        _ACTIVE.pop()
