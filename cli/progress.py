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


# A terminal shows a component's elapsed time redrawn in place every second; a log or a
# pipe gets a line every ELAPSED_LINE_SECONDS instead, so it never fills with progress.
REDRAW_SECONDS = 1.0
ELAPSED_LINE_SECONDS = 30.0
# These report their own epochs and steps (trainer/progress.py); a ticker would draw over them.
SELF_REPORTING = ("Trainer", "Tuner")


class ElapsedTicker:
    """While a component runs, shows how long it has been running."""

    def __init__(self, node_id: str, stream):
        self.node_id, self.stream = node_id, stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self.start = time.time()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _tick(self) -> None:
        interval = REDRAW_SECONDS if self.tty else ELAPSED_LINE_SECONDS
        while not self._stop.wait(interval):
            text = f"[snout]     {self.node_id} running, {time.time() - self.start:.0f}s"
            self.stream.write(f"\r\033[K{text}" if self.tty else text + "\n")
            self.stream.flush()


class ComponentProgress:
    def __init__(self, node_ids: List[str], stream=None):
        self.node_ids = node_ids
        self.stream = stream or sys.stdout
        self.timings: Dict[str, float] = {}
        self.cached: List[str] = []
        self.ran: List[str] = []
        self._ticker: Optional[ElapsedTicker] = None

    def _print(self, text: str) -> None:
        print(f"[snout] {text}", file=self.stream, flush=True)

    def started(self, node_id: str) -> None:
        position = self.node_ids.index(node_id) + 1 if node_id in self.node_ids else "?"
        self._print(f"({position}/{len(self.node_ids)}) {node_id} ...")
        if node_id not in SELF_REPORTING:
            self._ticker = ElapsedTicker(node_id, self.stream).__enter__()

    def finished(self, node_id: str, seconds: float, cached: bool) -> None:
        self.stop_ticker()
        self.timings[node_id] = seconds
        (self.cached if cached else self.ran).append(node_id)
        self._print(f"    {node_id} {'cached' if cached else 'ran'} in {seconds:.1f}s")

    def stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.__exit__(None, None, None)
            self._ticker = None


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
            progress.stop_ticker()
        progress.finished(node_id, time.time() - start, getattr(self, "_snout_cached", False))
        return info

    launcher_module.Launcher.launch = launch
    launcher_module.Launcher._prepare_execution = prepare
    try:
        yield progress
    finally:
        launcher_module.Launcher.launch = original_launch
        launcher_module.Launcher._prepare_execution = original_prepare
