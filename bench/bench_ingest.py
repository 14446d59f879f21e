"""Ingest throughput next to a bare decode loop over the same files, in the same run.

    .venv/bin/python bench/bench_ingest.py [--images N] [--source CLASS_FOLDERS] [--beam-arg ARG ...]

Without --source it makes N photo-like 500x375 JPEGs (the Cats-vs-Dogs median size) in two
class folders under a temporary directory. The bare loop is PIL open + full decode of every
file (what ingest must do at least once per file), timed before and after ingest (mean,
to even out other load on the machine); ingest adds checks, hashing, re-encoding where
needed, Example serialisation, duplicate removal, the split, record writing and Beam's
overhead, on all cores (the bare loop uses one).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def make_photos(root: str, n: int, size=(500, 375)) -> None:
    """Smooth colour fields plus mild noise: compresses like a photo (~30-60 KB), unlike pure noise."""
    rng = np.random.RandomState(0)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(n):
        label = ("cat", "dog")[i % 2]
        os.makedirs(os.path.join(root, label), exist_ok=True)
        a, b, c = rng.rand(3) * 0.05
        base = np.stack([np.sin(xx * a + i), np.cos(yy * b), np.sin((xx + yy) * c)], -1)
        img = (base * 100 + 128 + rng.randn(h, w, 3) * 12).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(root, label, f"{label}_{i:05d}.jpg"), quality=90)


def image_files(root: str):
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            if name.lower().endswith((".jpg", ".jpeg", ".png")):
                yield os.path.join(dirpath, name)


def bare_decode(files) -> int:
    ok = 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
            ok += 1
        except Exception:  # noqa: BLE001 - bad files count as done, like ingest's skips
            pass
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="photos to generate (default 1000)")
    parser.add_argument("--source", help="an existing class-folder collection to use instead")
    parser.add_argument("--beam-arg", action="append", default=[], help="passed to Beam")
    parser.add_argument("--max-side", type=int, help="also re-encode at this max side")
    args = parser.parse_args()

    from ingest import ingest

    with tempfile.TemporaryDirectory(prefix="snout-bench-") as tmp:
        source = args.source
        if not source:
            source = os.path.join(tmp, "photos")
            t = time.perf_counter()
            make_photos(source, args.images)
            print(f"made {args.images} JPEGs in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        files = list(image_files(source))
        total_mb = sum(os.path.getsize(p) for p in files) / 1e6

        t = time.perf_counter()
        import apache_beam  # noqa: F401  - one-off import costs, kept out of both timings
        import tensorflow  # noqa: F401

        imports = time.perf_counter() - t
        bare_decode(files[:20])  # warm the page cache for both loops alike

        t = time.perf_counter()
        decoded = bare_decode(files)
        bare_s = time.perf_counter() - t

        t = time.perf_counter()
        summary = ingest(os.path.join(tmp, "out"), source, progress=False,
                         max_side=args.max_side, beam_args=args.beam_arg)
        ingest_s = time.perf_counter() - t

        t = time.perf_counter()
        bare_decode(files)
        bare_s = (bare_s + time.perf_counter() - t) / 2

    bare_rate, ingest_rate = len(files) / bare_s, len(files) / ingest_s
    print(f"files: {len(files)} ({total_mb:.1f} MB), decodable: {decoded}, "
          f"written by ingest: {summary['totals']['all']}, skipped: {summary['skipped_total']}")
    print(f"bare decode loop (PIL open+load, 1 core): {bare_rate:8.1f} images/s  ({bare_s:.2f}s, mean of 2)")
    print(f"snout ingest (Beam {' '.join(args.beam_arg) or 'DirectRunner'}): "
          f"{ingest_rate:8.1f} images/s  ({ingest_s:.2f}s, incl. pipeline start-up)")
    print(f"ratio ingest/bare: {ingest_rate / bare_rate:.2f}   "
          f"(one-off Beam+TensorFlow import {imports:.1f}s excluded from both)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
