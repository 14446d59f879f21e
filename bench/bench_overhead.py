"""Fixed costs: `snout run` against a plain Keras script doing the same work, on the same photos.

For each size N: the embedded sample set's generator draws N photos (N/2 per class, seed 7;
not timed), then, back to back, each as a fresh process:
- `snout run --data <those photos' dataset> --workspace <fresh>`, every other flag at its default
  (128 px, 5 epochs of the head, 1 fine-tune epoch): validation, the gate, lineage, the server
  check, the push and the report included;
- bench/plain_keras.py on the same photos: 128 px, the head for 5 epochs, 1 fine-tune epoch,
  test accuracy on its own held-out tenth, a SavedModel export.
Prints both wall times (process start to exit) and their ratio. With --repeats R, R such pairs per size,
one right after the other (each snout run in a fresh workspace), and the median ratio: on a shared machine
a single pair's ratio moved by a quarter between runs of the same code. Targets (issue 18): <= 2.0x at
120 images, <= 1.2x at 2,500.

    .venv/bin/python bench/bench_overhead.py [--images 120 2500] [--repeats R] [--work DIR] [--keep]

Not part of CI (about 10 minutes per repeat at the default sizes on 2 cores).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from cli.progress_lines import FINISHED  # noqa: E402  (after the path: run as a script)
ACCURACY_LINE = re.compile(r"\[snout\] test accuracy ([0-9.]+) on (\d+) examples")


def timed(argv, log_path: str):
    """(wall seconds, exit code, stdout) of one process."""
    start = time.time()
    with open(log_path, "w") as log:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=ROOT))
        log.write(done.stdout)
    return time.time() - start, done.returncode, done.stdout


def photos(n: int, work: str) -> str:
    """The dataset of N generated photos (N/2 per class, seed 7), made once per size."""
    import sample_data

    data = os.path.join(work, str(n), "data")
    shutil.rmtree(data, ignore_errors=True)
    sample_data.generate(data, n // 2, seed=7)
    return data


def measure(n: int, work: str, data: str, repeat: int) -> dict:
    folder = os.path.join(work, str(n), f"repeat-{repeat}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    python = sys.executable
    keras_s, keras_rc, keras_out = timed(
        [python, os.path.join(ROOT, "bench", "plain_keras.py"), "--photos", os.path.join(data, "photos"),
         "--out", os.path.join(folder, "keras_model")], os.path.join(folder, "keras.log"))
    snout_s, snout_rc, snout_out = timed(
        [python, "-m", "cli", "run", "--data", data, "--workspace", os.path.join(folder, "workspace")],
        os.path.join(folder, "snout.log"))
    if keras_rc != 0 or snout_rc != 0:
        raise SystemExit(f"N={n}: plain Keras exit {keras_rc}, snout run exit {snout_rc}; logs in {folder}")
    keras_result = json.loads(keras_out.strip().splitlines()[-1])
    accuracy = ACCURACY_LINE.search(snout_out)
    return {"images": n, "snout_s": snout_s, "keras_s": keras_s, "ratio": snout_s / keras_s,
            "components": [(name, float(s)) for name, _, s in FINISHED.findall(snout_out)],
            "snout_accuracy": f"{accuracy.group(1)} on {accuracy.group(2)}" if accuracy else "?",
            "keras_accuracy": f"{keras_result['test_accuracy']:.4f} on {keras_result['test_images']}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[120, 2500])
    parser.add_argument("--repeats", type=int, default=1, help="pairs of runs per size (the median ratio is printed)")
    parser.add_argument("--work", default=None, help="work folder (default: a new temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="snout-bench-overhead-")
    os.makedirs(work, exist_ok=True)
    load = os.getloadavg()
    sizes = {n: photos(n, work) for n in args.images}
    rows = {n: [measure(n, work, data, r) for r in range(args.repeats)] for n, data in sizes.items()}
    print(f"\n{os.cpu_count()} cores; load average at start {load[0]:.1f}, at end {os.getloadavg()[0]:.1f}")
    for n, pairs in rows.items():
        for row in pairs:
            print(f"\n{n} images: snout run {row['snout_s']:.1f} s (test accuracy {row['snout_accuracy']}), "
                  f"plain Keras {row['keras_s']:.1f} s (test accuracy {row['keras_accuracy']}): "
                  f"ratio {row['ratio']:.2f}x")
            print("  " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in row["components"]))
        if len(pairs) > 1:
            ratios = sorted(row["ratio"] for row in pairs)
            print(f"\n{n} images, {len(pairs)} pairs: median ratio {statistics.median(ratios):.2f}x "
                  f"(each: {', '.join(f'{r:.2f}x' for r in ratios)})")
    if not (args.keep or args.work):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
