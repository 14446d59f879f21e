"""Readable progress for a LocalDagRunner run: one line per component, with time and cache hits.

TFX reports progress only through absl INFO logging, buried among thousands of other
lines (and other libraries reconfigure logging mid-run). So this wraps the launcher
that runs each node instead: exact, and independent of logging setup. It relies on
tfx 1.16's portable Launcher (pinned); tests/test_pipeline_e2e.py checks the lines.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Dict, List

from tfx.orchestration.portable import launcher as launcher_module


class ComponentProgress:
    def __init__(self, node_ids: List[str], stream=None):
        self.node_ids = node_ids
        self.stream = stream or sys.stdout
        self.timings: Dict[str, float] = {}
        self.cached: List[str] = []
        self.ran: List[str] = []

    def _print(self, text: str) -> None:
        print(f"[snout] {text}", file=self.stream, flush=True)

    def started(self, node_id: str) -> None:
        position = self.node_ids.index(node_id) + 1 if node_id in self.node_ids else "?"
        self._print(f"({position}/{len(self.node_ids)}) {node_id} ...")

    def finished(self, node_id: str, seconds: float, cached: bool) -> None:
        self.timings[node_id] = seconds
        (self.cached if cached else self.ran).append(node_id)
        self._print(f"    {node_id} {'cached' if cached else 'ran'} in {seconds:.1f}s")


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
        info = original_launch(self, *args, **kwargs)
        progress.finished(node_id, time.time() - start, getattr(self, "_snout_cached", False))
        return info

    launcher_module.Launcher.launch = launch
    launcher_module.Launcher._prepare_execution = prepare
    try:
        yield progress
    finally:
        launcher_module.Launcher.launch = original_launch
        launcher_module.Launcher._prepare_execution = original_prepare
