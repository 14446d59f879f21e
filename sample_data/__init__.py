"""The embedded default dataset: GENERATED cartoon cat and dog faces, not photos.

No permissively licensed cat/dog photo set can be had from this project's package
registries, so snout draws one, deterministically from a seed. What tells the
classes apart is shape, as in photos: cats have upright pointed ears, whiskers and
a small nose; dogs have long drooping ears, a wide muzzle and often a tongue. Fur
colour, background, position, size, tilt and noise are drawn from the same
distributions for both classes, so colour alone can't tell them apart.

Output: `<dir>/photos/{cat,dog}/*.jpg` (for `snout predict` and eyeballing) and the
snout dataset layout (each record's `source` is its photo's path under photos/) of contract/__init__.py (labels.txt, train/, validation/, test/, summary.json).
The first photos of each class are its test split, the next its validation split (split_counts).
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import shutil
from typing import List, Tuple

import contract

CLASS_NAMES = ["cat", "dog"]
DESCRIPTION = "snout generated sample set (synthetic cartoon cat/dog faces, not photos)"
_SIZE = 160
VALIDATION_FRACTION = 0.2
TEST_FRACTION = 0.2
FEATURES = (contract.IMAGE_KEY, contract.LABEL_KEY, contract.SOURCE_KEY)  # a set made before `source` is redrawn
SPLITS = (contract.TEST_SPLIT, contract.VALIDATION_SPLIT, contract.TRAIN_SPLIT)  # in photo order per class


def split_counts(images_per_class: int) -> dict:
    """Photos per class in each split: at least one test and one validation photo per class."""
    if images_per_class < 3:
        raise ValueError(f"the sample set needs >= 3 images per class (one per split), got {images_per_class}")
    test = max(1, round(images_per_class * TEST_FRACTION))
    validation = max(1, round(images_per_class * VALIDATION_FRACTION))
    return {contract.TEST_SPLIT: test, contract.VALIDATION_SPLIT: validation,
            contract.TRAIN_SPLIT: images_per_class - test - validation}


def split_of(index: int, images_per_class: int) -> str:
    """The split of a class's photo number `index`."""
    for split, count in split_counts(images_per_class).items():
        if index < count:
            return split
        index -= count
    raise IndexError(index)


def _rgb(rng: random.Random, low: int = 0, high: int = 255) -> Tuple[int, int, int]:
    return tuple(rng.randint(low, high) for _ in range(3))


def _rotated(points, cx, cy, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in points]


def draw_face(kind: str, rng: random.Random):
    """One RGB PIL image of a cartoon `kind` face ('cat' or 'dog')."""
    from PIL import Image, ImageDraw, ImageFilter

    top, bottom = _rgb(rng), _rgb(rng)
    image = Image.new("RGB", (_SIZE, _SIZE))
    draw = ImageDraw.Draw(image)
    for y in range(_SIZE):  # vertical gradient background
        t = y / (_SIZE - 1)
        draw.line([(0, y), (_SIZE, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(rng.randint(0, 4)):  # clutter shared by both classes
        x, y, r = rng.randint(0, _SIZE), rng.randint(0, _SIZE), rng.randint(4, 18)
        draw.rectangle([x - r, y - r, x + r, y + r], fill=_rgb(rng))

    fur, dark = _rgb(rng, 60, 240), _rgb(rng, 0, 70)
    cx, cy = _SIZE / 2 + rng.uniform(-18, 18), _SIZE / 2 + rng.uniform(-12, 18)
    r = rng.uniform(30, 44)
    tilt = rng.uniform(-0.35, 0.35)

    def polygon(points, fill):
        draw.polygon(_rotated(points, cx, cy, tilt), fill=fill)

    if kind == "cat":  # upright triangles above the head
        for side in (-1, 1):
            base_x = cx + side * r * 0.55
            polygon([(base_x - r * 0.35, cy - r * 0.6), (base_x + r * 0.35, cy - r * 0.6),
                     (base_x + side * r * 0.15, cy - r * 1.45)], fur)
            polygon([(base_x - r * 0.18, cy - r * 0.7), (base_x + r * 0.18, cy - r * 0.7),
                     (base_x + side * r * 0.1, cy - r * 1.2)], (240, 170, 180))
    else:  # long ears hanging down the sides
        for side in (-1, 1):
            ex = cx + side * r * 0.95
            polygon([(ex - r * 0.3, cy - r * 0.7), (ex + r * 0.3, cy - r * 0.7),
                     (ex + side * r * 0.25, cy + r * 0.9), (ex - side * r * 0.15, cy + r * 0.8)], dark)
    draw.ellipse([cx - r, cy - r * 0.9, cx + r, cy + r * 0.9], fill=fur)
    for side in (-1, 1):  # eyes
        ex, ey = cx + side * r * 0.38, cy - r * 0.15
        draw.ellipse([ex - r * 0.12, ey - r * 0.12, ex + r * 0.12, ey + r * 0.12], fill=(20, 20, 20))
    if kind == "cat":
        draw.polygon([(cx - r * 0.1, cy + r * 0.15), (cx + r * 0.1, cy + r * 0.15), (cx, cy + r * 0.28)],
                     fill=(230, 120, 140))
        for side in (-1, 1):
            for k in (-1, 0, 1):
                draw.line([(cx + side * r * 0.2, cy + r * 0.3), (cx + side * r * 1.1, cy + r * (0.25 + 0.15 * k))],
                          fill=dark, width=1)
    else:
        draw.ellipse([cx - r * 0.45, cy + r * 0.05, cx + r * 0.45, cy + r * 0.75], fill=_rgb(rng, 150, 255))
        draw.ellipse([cx - r * 0.18, cy + r * 0.1, cx + r * 0.18, cy + r * 0.32], fill=(15, 15, 15))
        if rng.random() < 0.7:
            draw.ellipse([cx - r * 0.14, cy + r * 0.6, cx + r * 0.14, cy + r * 1.0], fill=(220, 80, 100))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))
    # Sensor-like noise from a fixed, seeded bank of noise fields (fast and deterministic).
    noise = _noise_bank()[rng.randrange(len(_noise_bank()))]
    return Image.blend(image, noise, rng.uniform(0.05, 0.15))


_NOISE = []


def _noise_bank():
    from PIL import Image

    if not _NOISE:
        r = random.Random(1234)
        for _ in range(8):
            data = bytes(r.randrange(256) for _ in range(_SIZE * _SIZE * 3))
            _NOISE.append(Image.frombytes("RGB", (_SIZE, _SIZE), data))
    return _NOISE


def _jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def generate(out_dir: str, images_per_class: int = 60, seed: int = 7) -> dict:
    """Writes the sample set to `out_dir` (idempotent: same seed, same bytes) and returns its summary."""
    summary_path = os.path.join(out_dir, contract.SUMMARY_FILE)
    if os.path.isfile(summary_path):
        with open(summary_path) as f:
            existing = json.load(f)
        if (existing.get("images_per_class"), existing.get("seed"), set(existing.get("counts", ())),
                existing.get("features")) == (images_per_class, seed, set(SPLITS), list(FEATURES)):
            return existing
    rng = random.Random(seed)
    splits = {split: [] for split in SPLITS}
    counts = {s: {c: 0 for c in CLASS_NAMES} for s in splits}
    for label, kind in enumerate(CLASS_NAMES):
        photo_dir = os.path.join(out_dir, "photos", kind)
        os.makedirs(photo_dir, exist_ok=True)
        for i in range(images_per_class):
            data = _jpeg(draw_face(kind, rng))
            name = f"{kind}.{i:03d}.jpg"
            with open(os.path.join(photo_dir, name), "wb") as f:
                f.write(data)
            split = split_of(i, images_per_class)
            # source: the path relative to the collection (photos/), as `snout ingest` records it.
            splits[split].append(contract.make_example(data, label, f"{kind}/{name}").SerializeToString())
            counts[split][kind] += 1
    for split, examples in splits.items():
        shutil.rmtree(os.path.join(out_dir, split), ignore_errors=True)  # another seed's or size's records
        os.makedirs(os.path.join(out_dir, split))
        random.Random(seed).shuffle(examples)
        path = os.path.join(out_dir, split, f"data-00000-of-00001{contract.RECORD_SUFFIX}")
        with contract.record_writer(path) as writer:
            for example in examples:
                writer.write(example)
    contract.write_vocabulary(out_dir, CLASS_NAMES)
    summary = {"description": DESCRIPTION, "generated": True, "seed": seed, "features": list(FEATURES),
               "images_per_class": images_per_class, "counts": counts, "skipped": {}}
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def sample_photos(out_dir: str, kind: str) -> List[str]:
    folder = os.path.join(out_dir, "photos", kind)
    return sorted(os.path.join(folder, n) for n in os.listdir(folder))
