"""A whole `snout run` with `--beam-profile portable`, killed with -9 in the middle of the Trainer and
run again. One scenario, two claims, one pair of runs (the suite's time budget):

- Beam's portable runner: every Beam-powered component submits its job to Beam's in-process job
  service (`embed`), whose SDK workers come from an EXTERNAL worker pool this test starts and stops.
  The pool must have started SDK workers while ImportExampleGen and StatisticsGen (first run) and the
  Evaluator (rerun) ran: their Beam work was done there (EXTERNAL has no in-process fallback).
- Crash recovery: nothing is pushed by the killed run; the rerun caches everything upstream of the
  Trainer, pushes exactly one version, and leaves an MLMD store that passes SQLite's integrity check.

Each run is a real `snout run` in a subprocess (its own process group, so its Beam processes die with it).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from cli.progress_lines import FINISHED, STARTED
from tests.fixtures.beam_worker_pool import WorkerPool, project_env

pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--image-size", "64", "--sample-images-per-class", "10", "--epochs", "1", "--fine-tune-epochs", "0",
        "--min-accuracy", "0", "--no-lite-export", "--no-audit"]
UPSTREAM = {"ImportExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "ClassNamesCheck",
            "Transform"}


class WatchedRun:
    """`snout run` in a subprocess, its lines read as they come, with the SDK workers the pool started
    while each component ran. Independent components run at the same time (pipeline/concurrent_runner.py):
    workers started between two start/end lines count for every component running in between."""

    def __init__(self, workspace: str, pool: WorkerPool):
        self.pool, self.lines, self.started_by, self.states, self.running = pool, [], {}, {}, set()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "run", "--workspace", workspace, *TINY, *pool.beam_flags()], cwd=REPO,
            env=project_env(PYTHONPATH=REPO, PYTHONUNBUFFERED="1"), text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self._seen = pool.workers_started()

    def read(self, until: str = "", timeout: float = 900) -> None:
        """Reads lines to the end, or until one contains `until`."""
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.lines.append(line)
            started, finished = STARTED.search(line), FINISHED.search(line)
            if started or finished:
                now = self.pool.workers_started()
                for component in self.running:
                    self.started_by[component] = self.started_by.get(component, 0) + now - self._seen
                self._seen = now
            if started:
                self.running.add(started.group(1))
            if finished:
                self.running.discard(finished.group(1))
                self.states[finished.group(1)] = finished.group(2)
            if until and until in line:
                return
            assert time.monotonic() < deadline, "snout run took too long:\n" + self.tail()
        if until:
            pytest.fail(f"snout run ended before {until!r} (exit {self.process.wait()}):\n{self.tail()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def tail(self, lines: int = 30) -> str:
        return "".join(self.lines[-lines:])


def _versions(workspace: str):
    base = os.path.join(workspace, "serving", "snout")
    return [v for v in os.listdir(base) if v.isdigit()] if os.path.isdir(base) else []


def test_portable_run_killed_mid_trainer_resumes_blesses_and_pushes_one_version(tmp_path):
    workspace = str(tmp_path / "ws")
    pool = WorkerPool(str(tmp_path / "worker_pool.log"))
    try:
        killed = WatchedRun(workspace, pool)
        try:
            killed.read(until="Trainer ...")
            time.sleep(3)  # inside the Trainer's executor
        finally:
            killed.kill()
        rerun = WatchedRun(workspace, pool)
        try:
            rerun.read()
            code = rerun.process.wait()
        finally:
            rerun.kill()
    finally:
        pool.stop()

    out = "".join(rerun.lines)
    assert code == 0, out[-3000:]
    assert "--runner=PortableRunner --job_endpoint=embed --environment_type=EXTERNAL" in out
    for run, component in ((killed, "ImportExampleGen"), (killed, "StatisticsGen"), (rerun, "Evaluator")):
        assert run.started_by.get(component, 0) >= 1, (component, run.started_by, pool.log_tail())
    assert rerun.started_by.get("Trainer", 0) == 0  # no Beam there: the attribution is not just any activity

    assert {node for node, state in rerun.states.items() if state == "cached"} >= UPSTREAM, rerun.states
    assert rerun.states["Trainer"] == "ran" and rerun.states["IdempotentPusher"] == "ran", rerun.states
    assert "blessed: yes" in out and "pushed model:" in out
    assert len(_versions(workspace)) == 1
    with sqlite3.connect(os.path.join(workspace, "metadata.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
