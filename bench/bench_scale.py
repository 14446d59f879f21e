"""Scale: N images through `snout ingest` and the whole pipeline, with fixed settings.

Generates N images of the embedded sample set (or takes `--source`, a photo collection in
a layout `snout ingest` reads), ingests them, runs `snout run` on the result (128 px,
default epochs), and prints per component: seconds, images/s, bytes written; and the peak
RSS of the run's whole process tree (Beam workers included), polled from /proc. Compare
two N on the same machine: time per image and peak RSS should stay nearly flat.

    .venv/bin/python bench/bench_scale.py --images 2500 [--work /tmp/scale] [--source DIR] [-- extra run flags]

Not part of CI (minutes to an hour).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from cli.progress_lines import FINISHED, STARTED  # noqa: E402  (after the path: run as a script)
RUN_FLAGS = ["--image-size", "128"]  # everything else at its default


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def _children(pid: int):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return []


def _tree_rss(pid: int) -> int:
    """RSS summed over `pid` and all its descendants, now."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_bytes(p)
        todo.extend(_children(p))
    return total


def run_measured(argv, log_path: str):
    """Runs a command; returns (seconds, peak process-tree RSS in bytes, its stdout)."""
    with open(log_path, "w") as log:
        start = time.time()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT,
                                env=dict(os.environ, PYTHONPATH=ROOT))
        peak = [0, 0.0, 0]  # tree bytes, when, the main process's own bytes then

        def poll():
            while proc.poll() is None:
                tree = _tree_rss(proc.pid)
                if tree > peak[0]:
                    peak[:] = [tree, time.time(), _rss_bytes(proc.pid)]
                time.sleep(0.5)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        out, started, finished = [], {}, {}  # component -> when its start / end line came
        for line in proc.stdout:
            out.append(line)
            log.write(line)
            log.flush()
            started.update((name, time.time()) for name in STARTED.findall(line))
            finished.update((name, time.time()) for name, _, _ in FINISHED.findall(line))
        proc.wait()
        poller.join()
    # Independent components run at the same time (pipeline/concurrent_runner.py): name all that ran then.
    during = [name for name, when in started.items() if when <= peak[1] < finished.get(name, float("inf"))]
    if not during:
        during = ["no component (before the first or after the last: start-up, the report)"]
    print(f"peak RSS {peak[0] / 1e9:.2f} GB (main process {peak[2] / 1e9:.2f} GB) while {' + '.join(during)} ran")
    if proc.returncode not in (0, 3):  # 3 = not blessed: the pipeline still ran to the end
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}); see {log_path}")
    return time.time() - start, peak[0], "".join(out)


def dir_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def source_photos(args, work: str) -> str:
    if args.source:
        return args.source
    import sample_data

    generated = os.path.join(work, "generated")
    start = time.time()
    sample_data.generate(generated, args.images // 2, seed=7)
    print(f"generated {args.images} images in {time.time() - start:.0f}s")
    return os.path.join(generated, "photos")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2500, help="images to generate (ignored with --source)")
    parser.add_argument("--source", default=None, help="a photo collection instead (one folder per class)")
    parser.add_argument("--work", default=None, help="work folder (default: a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--compare-audit", action="store_true",
                        help="run twice on the same ingested data: first without the audit and without shared "
                             "embeddings (--no-audit --no-share-embeddings: the Tuner and phase 1 run the base "
                             "themselves), then with both (the default); print both tables and the ratio")
    parser.add_argument("run_flags", nargs="*", help="extra `snout run` flags, after --")
    args = parser.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="snout-bench-scale-")
    os.makedirs(work, exist_ok=True)
    photos = source_photos(args, work)
    data, workspace = os.path.join(work, "data"), os.path.join(work, "workspace")
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(workspace, ignore_errors=True)
    python = [sys.executable, "-m", "cli"]

    ingest_s, ingest_rss, _ = run_measured(python + ["ingest", photos, "--out", data, "--no-progress"],
                                           os.path.join(work, "ingest.log"))
    import contract

    n = sum(sum(c.values()) for c in contract.read_summary(data).get("counts", {}).values()) or args.images
    variants = [["--no-audit", "--no-share-embeddings"], []] if args.compare_audit else [[]]
    totals = []
    for k, variant in enumerate(variants):
        flags = RUN_FLAGS + args.run_flags + variant
        space = workspace if k == 0 else f"{workspace}-{k}"
        shutil.rmtree(space, ignore_errors=True)
        run_s, run_rss, out = run_measured(python + ["run", "--data", data, "--workspace", space] + flags,
                                           os.path.join(work, f"run{k}.log"))
        totals.append(run_s)
        print_table(n, flags, space, out, ingest_s, ingest_rss, run_s, run_rss, data)
    if args.compare_audit:
        print(f"\nwith the audit and shared embeddings vs without: {totals[1]:.1f}s vs {totals[0]:.1f}s "
              f"({totals[1] / totals[0]:.3f}x)")
    if not (args.keep or args.work):
        shutil.rmtree(work, ignore_errors=True)


def print_table(n, flags, workspace, out, ingest_s, ingest_rss, run_s, run_rss, data):
    root = os.path.join(workspace, "pipeline_root")
    print(f"\n{n} images, {os.cpu_count()} cores; snout run {' '.join(flags)}")
    print(f"{'step':<32}{'seconds':>9}{'images/s':>10}{'MB written':>12}")
    print(f"{'snout ingest':<32}{ingest_s:9.1f}{n / ingest_s:10.1f}{dir_bytes(data) / 1e6:12.1f}")
    for name, _, seconds in FINISHED.findall(out):
        seconds = float(seconds)
        rate = f"{n / seconds:10.1f}" if seconds >= 0.5 else f"{'-':>10}"
        print(f"{name:<32}{seconds:9.1f}{rate}{dir_bytes(os.path.join(root, name)) / 1e6:12.1f}")
    print(f"{'snout run (whole pipeline)':<32}{run_s:9.1f}{n / run_s:10.1f}{dir_bytes(root) / 1e6:12.1f}")
    print(f"ingested record bytes: {dir_bytes(data) / 1e6:.1f} MB")
    print(f"time per image: ingest + run {1000 * (ingest_s + run_s) / n:.1f} ms")
    print(f"peak RSS of the process tree: ingest {ingest_rss / 1e9:.2f} GB, run {run_rss / 1e9:.2f} GB")
    for line in out.splitlines():  # the phase-1/tuner feature lines and the audit's counts
        if any(key in line for key in ("phase 1:", "tuner: cached", "embeddings:", "audit of")):
            print("  " + line.strip())


if __name__ == "__main__":
    main()
