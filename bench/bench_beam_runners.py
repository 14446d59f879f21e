"""`snout ingest` of the same generated images on three Beam runners, one run each, side by side.

    .venv/bin/python bench/bench_beam_runners.py [--images 25000] [--source PHOTOS] [--skip dask]

- direct: the DirectRunner, multi-processing, one worker process per core (--beam-mode multi_processing);
- portable: the PortableRunner to Beam's in-process job service (`embed`) with an EXTERNAL worker pool
  (Beam's worker_pool_main, started here with the project's python first on PATH);
- dask: Beam's DaskRunner on a loopback dask.distributed cluster, a scheduler and two single-threaded
  worker processes (started here).

Each is a `snout ingest` subprocess, timed from start to exit (start-up included), after its
cluster is up. records/s = records written / seconds. All three must write the same records.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)

RUNNERS = ("direct", "portable", "dask")


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _ingest(photos: str, out: str, flags, log_path: str) -> float:
    command = [sys.executable, "-m", "cli", "ingest", photos, "--out", out, "--no-progress", *flags]
    start = time.perf_counter()
    with open(log_path, "wb") as log:
        subprocess.run(command, cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO), stdout=log,
                       stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - start


def _records(out: str) -> int:
    import contract

    return sum(contract.read_summary(out)["per_class"].values())


def run_one(runner: str, photos: str, work: str) -> tuple:
    """(seconds, records, what ran) of one runner, its cluster started before and stopped after."""
    from tests.fixtures.beam_worker_pool import WorkerPool
    from tests.fixtures.dask_cluster import DaskCluster

    out, log = os.path.join(work, f"out-{runner}"), os.path.join(work, f"{runner}.log")
    if runner == "direct":
        cores = os.cpu_count() or 1
        seconds = _ingest(photos, out, ["--beam-mode", "multi_processing"], log)
        return seconds, _records(out), f"DirectRunner, {cores} worker processes"
    if runner == "portable":
        pool = WorkerPool(os.path.join(work, "worker_pool.log"))
        try:
            seconds = _ingest(photos, out, pool.beam_flags(), log)
            return seconds, _records(out), f"PortableRunner, embed job service, {pool.workers_started()} SDK worker(s)"
        finally:
            pool.stop()
    cluster = DaskCluster(work, workers=2)
    try:
        seconds = _ingest(photos, out, ["--beam-profile", "dask", "--dask-address", cluster.address], log)
        return seconds, _records(out), "DaskRunner, 2 single-threaded dask workers"
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=25_000, help="images to generate (ignored with --source)")
    parser.add_argument("--source", help="an existing class-folder collection to use instead")
    parser.add_argument("--skip", action="append", default=[], choices=RUNNERS, help="leave a runner out")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="snout-bench-runners-") as work:
        photos = args.source
        if not photos:
            import sample_data

            start = time.time()
            sample_data.generate(os.path.join(work, "generated"), args.images // 2, seed=7)
            photos = os.path.join(work, "generated", "photos")
            print(f"generated {args.images} images in {time.time() - start:.0f}s")
        rows = []
        for runner in RUNNERS:
            if runner in args.skip:
                continue
            print(f"{runner}: starting ({_load()})", flush=True)
            seconds, records, what = run_one(runner, photos, work)
            rows.append((runner, seconds, records, what))
            print(f"{runner}: {records} records in {seconds:.1f}s ({_load()})", flush=True)
    print(f"\n{'runner':<10}{'seconds':>10}{'records':>10}{'records/s':>12}{'vs direct':>11}  what ran")
    base = rows[0][1] if rows and rows[0][0] == "direct" else None
    for runner, seconds, records, what in rows:
        ratio = f"{base / seconds:.2f}x" if base else "-"
        print(f"{runner:<10}{seconds:>10.1f}{records:>10}{records / seconds:>12.1f}{ratio:>11}  {what}")
    if len({records for _, _, records, _ in rows}) > 1:
        print("the runners wrote different record counts", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
