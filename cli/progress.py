"""Readable progress for a LocalDagRunner run: one line per component, with time and cache hits.

TFX reports progress only through absl INFO logging, buried among thousands of other
lines (and other libraries reconfigure logging mid-run). So this wraps the launcher
that runs each node instead: exact, and independent of logging setup. It relies on
tfx 1.16's portable Launcher (pinned); tests/test_pipeline_e2e.py checks the lines.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Dict, List, Optional

from tfx.orchestration.portable import launcher as launcher_module

from cli import progress_lines


# A terminal shows the running components' elapsed time redrawn in place every second; a log or a
# pipe gets a line every ELAPSED_LINE_SECONDS instead, so it never fills with progress.
REDRAW_SECONDS = 1.0
ELAPSED_LINE_SECONDS = 30.0
# These report their own epochs and steps (trainer/progress.py); while one runs, no ticker draws over it.
SELF_REPORTING = ("Trainer", "Tuner")


class ComponentProgress:
    """A line when a component starts and when it ends; meanwhile one ticker for every running component
    (several run at once: pipeline/concurrent_runner.py). Called from the runner's threads."""

    def __init__(self, node_ids: List[str], stream=None):
        self.node_ids = node_ids
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.timings: Dict[str, float] = {}
        self.cached: List[str] = []
        self.ran: List[str] = []
        self._running: Dict[str, float] = {}  # node id -> start time
        self._lock = threading.RLock()
        self._drawn = False  # a ticker line is on the terminal, to be cleared before the next line
        self._stop = threading.Event()
        self._ticker: Optional[threading.Thread] = None

    def _print(self, line: str) -> None:
        with self._lock:
            self._clear()
            print(line, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")
            self._drawn = False

    def started(self, node_id: str) -> None:
        position = self.node_ids.index(node_id) + 1 if node_id in self.node_ids else "?"
        with self._lock:
            self._print(progress_lines.started_line(position, len(self.node_ids), node_id))
            self._running[node_id] = time.time()
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()

    def finished(self, node_id: str, seconds: float, cached: bool) -> None:
        with self._lock:
            self.ended(node_id)
            self.timings[node_id] = seconds
            (self.cached if cached else self.ran).append(node_id)
            self._print(progress_lines.finished_line(node_id, seconds, cached))

    def ended(self, node_id: str) -> None:
        """`node_id` runs no more (finished or failed): the ticker leaves it out from now on."""
        with self._lock:
            self._running.pop(node_id, None)
            self._clear()
            self.stream.flush()

    def close(self) -> None:
        """Stops the ticker (the run is over)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._clear()

    def _tick(self) -> None:
        interval = REDRAW_SECONDS if self.tty else ELAPSED_LINE_SECONDS
        while not self._stop.wait(interval):
            with self._lock:
                # A log gets a line for a component only once it has run ELAPSED_LINE_SECONDS (short ones: none).
                shown = [f"{node} running, {time.time() - start:.0f}s" for node, start in self._running.items()
                         if self.tty or time.time() - start >= interval]
                if not shown or any(node in SELF_REPORTING for node in self._running):
                    continue
                text = f"{progress_lines.PREFIX}     " + "; ".join(shown)
                self.stream.write(f"\r\033[K{text}" if self.tty else text + "\n")
                self._drawn = self.tty
                self.stream.flush()


@contextlib.contextmanager
def reporting(node_ids: List[str], stream=None):
    """While active, every TFX node launched in this process reports start, end and caching."""
    progress = ComponentProgress(node_ids, stream)
    original_launch = launcher_module.Launcher.launch
    original_prepare = launcher_module.Launcher._prepare_execution

    def prepare(self, *args, **kwargs):
        result = original_prepare(self, *args, **kwargs)
        # Only the cache branch returns "not needed" together with an execution record.
        self._snout_cached = (not result.is_execution_needed) and result.execution_metadata is not None
        return result

    def launch(self, *args, **kwargs):
        node_id = self._pipeline_node.node_info.id
        progress.started(node_id)
        start = time.time()
        try:
            info = original_launch(self, *args, **kwargs)
        finally:
            progress.ended(node_id)
        progress.finished(node_id, time.time() - start, getattr(self, "_snout_cached", False))
        return info

    launcher_module.Launcher.launch = launch
    launcher_module.Launcher._prepare_execution = prepare
    try:
        yield progress
    finally:
        progress.close()
        launcher_module.Launcher.launch = original_launch
        launcher_module.Launcher._prepare_execution = original_prepare
