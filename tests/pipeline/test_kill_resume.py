"""kill -9 in the middle of the Trainer, then a rerun: exactly one new version, everything
upstream of the Trainer cached, and an MLMD store that passes SQLite's integrity check.

A real `snout run` in a subprocess (its own process group, so Beam's workers die with it),
killed as soon as it says the Trainer started; the rerun is a second subprocess.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--image-size", "64", "--sample-images-per-class", "10", "--epochs", "2", "--fine-tune-epochs", "1",
        "--min-accuracy", "0"]
UPSTREAM = {"ImportExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "ClassNamesCheck",
            "Transform"}


def _snout_run(workspace, **popen):
    return subprocess.Popen([sys.executable, "-m", "cli", "run", "--workspace", workspace, *TINY], cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=REPO, PYTHONUNBUFFERED="1"), text=True, **popen)


def _kill_when_the_trainer_starts(workspace) -> None:
    run = _snout_run(workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        for line in run.stdout:
            if "Trainer ..." in line:
                time.sleep(3)  # inside the Trainer's executor
                break
            assert time.monotonic() < deadline, "the run never reached the Trainer"
        else:
            pytest.fail(f"snout run ended before the Trainer (exit {run.wait()})")
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()


def test_kill_9_mid_trainer_then_rerun_pushes_one_version(tmp_path):
    workspace = str(tmp_path / "ws")
    _kill_when_the_trainer_starts(workspace)
    assert not os.path.exists(os.path.join(workspace, "serving", "snout"))  # nothing pushed by the killed run

    rerun = _snout_run(workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, out
    states = dict(re.findall(r"\[snout\]\s+(\S+) (ran|cached) in", out))
    assert {node for node, state in states.items() if state == "cached"} >= UPSTREAM, states
    assert states["Trainer"] == "ran" and states["IdempotentPusher"] == "ran", states
    versions = [v for v in os.listdir(os.path.join(workspace, "serving", "snout")) if v.isdigit()]
    assert len(versions) == 1, versions
    with sqlite3.connect(os.path.join(workspace, "metadata.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
