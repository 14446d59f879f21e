"""A whole `snout run` with `--beam-profile portable`: every Beam-powered component submits its
Beam job to Beam's in-process job service (`embed`), whose SDK workers come from an EXTERNAL
worker pool this test starts and stops. The run must bless and push, and the pool must have
started SDK workers while ImportExampleGen, StatisticsGen and the Evaluator ran: their Beam work
was done there, not in the run's own process (EXTERNAL has no in-process fallback).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.fixtures.beam_worker_pool import WorkerPool, project_env

pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--image-size", "64", "--sample-images-per-class", "10", "--epochs", "1", "--fine-tune-epochs", "0",
        "--min-accuracy", "0"]
BEAM_COMPONENTS = ("ImportExampleGen", "StatisticsGen", "Evaluator")
FINISHED = re.compile(r"\[snout\]\s+(\S+) (ran|cached) in")


def _run_watching_the_pool(workspace: str, pool: WorkerPool):
    """`snout run` in a subprocess; returns (exit code, output, {component: SDK workers started while it ran})."""
    run = subprocess.Popen([sys.executable, "-m", "cli", "run", "--workspace", workspace, *TINY, *pool.beam_flags()],
                           cwd=REPO, env=project_env(PYTHONPATH=REPO, PYTHONUNBUFFERED="1"), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines, started_by, seen = [], {}, pool.workers_started()
    deadline = time.monotonic() + 1500
    try:
        for line in run.stdout:
            lines.append(line)
            finished = FINISHED.search(line)
            if finished:  # components run one at a time: workers started since the last one are its own
                now = pool.workers_started()
                started_by[finished.group(1)] = now - seen
                seen = now
            assert time.monotonic() < deadline, "snout run took too long:\n" + "".join(lines[-30:])
        return run.wait(), "".join(lines), started_by
    finally:
        if run.poll() is None:
            os.killpg(run.pid, 9)
            run.wait()


def test_snout_run_through_a_job_service_blesses_and_pushes(tmp_path):
    pool = WorkerPool(str(tmp_path / "worker_pool.log"))
    try:
        code, out, started_by = _run_watching_the_pool(str(tmp_path / "ws"), pool)
    finally:
        pool.stop()
    assert code == 0, out[-3000:]
    assert "--runner=PortableRunner --job_endpoint=embed --environment_type=EXTERNAL" in out
    for component in BEAM_COMPONENTS:
        assert started_by.get(component, 0) >= 1, (component, started_by, pool.log_tail())
    assert started_by.get("Trainer", 0) == 0  # no Beam there: the attribution is not just any activity
    assert "blessed: yes" in out and "pushed model:" in out
    versions = [v for v in os.listdir(tmp_path / "ws" / "serving" / "snout") if v.isdigit()]
    assert len(versions) == 1
