"""A generated DIRTY photo collection with known faults, to measure the audit against.

The embedded sample set's cartoon cats and dogs (sample_data/__init__.py), filed one folder per
class as `snout ingest` reads them, plus three kinds of fault planted at known places:

- flipped labels: a share of the faces filed under the other class;
- near-copies: resized, cropped or recompressed copies of some faces, filed beside their
  original under another name (as scraped sets have them; ingest keeps them, the bytes differ);
- non-cat/dog images: cartoon houses, cars, trees, flowers, fish and landscapes filed under a class.

`truth.json` beside the class folders lists every fault by its path relative to the collection
(the `source` ingest records), so an audit's findings can be scored by precision and recall.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
from typing import Dict, List

from sample_data import CLASS_NAMES, _rgb, draw_face

TRUTH_FILE = "truth.json"
OUTLIER_KINDS = ("house", "car", "tree", "flower", "fish", "landscape")
COPY_KINDS = ("resized", "cropped", "recompressed", "resized+recompressed", "cropped+resized")


def jpeg_bytes(image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def near_copy(image, kind: str, rng: random.Random):
    """(copy as a PIL image, JPEG quality) for one of COPY_KINDS: what scraped duplicates look like."""
    from PIL import Image

    copy, quality = image, 90
    w, h = image.size
    if "cropped" in kind:  # cut 2-8% off each side (a border, a watermark), then back to the size
        left, top = int(w * rng.uniform(0.02, 0.08)), int(h * rng.uniform(0.02, 0.08))
        right, bottom = w - int(w * rng.uniform(0.02, 0.08)), h - int(h * rng.uniform(0.02, 0.08))
        copy = copy.crop((left, top, right, bottom)).resize((w, h), Image.BILINEAR)
    if "resized" in kind:
        scale = rng.uniform(0.5, 0.85) if rng.random() < 0.7 else rng.uniform(1.25, 2.0)  # thumbnail or upscale
        copy = copy.resize((max(16, int(w * scale)), max(16, int(h * scale))), Image.BICUBIC)
    if "recompressed" in kind:
        quality = rng.randint(40, 75)
    return copy, quality


def draw_thing(kind: str, rng: random.Random, size: int = 160):
    """A cartoon of something that is neither a cat nor a dog (same background and noise style)."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.new("RGB", (size, size), _rgb(rng))
    draw = ImageDraw.Draw(image)
    top, bottom = _rgb(rng), _rgb(rng)
    for y in range(size):
        t = y / (size - 1)
        draw.line([(0, y), (size, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    cx, cy, r = size / 2 + rng.uniform(-15, 15), size / 2 + rng.uniform(-10, 15), rng.uniform(30, 45)
    color, dark = _rgb(rng, 60, 240), _rgb(rng, 0, 70)
    if kind == "house":
        draw.rectangle([cx - r, cy - r * 0.3, cx + r, cy + r], fill=color)
        draw.polygon([(cx - r * 1.2, cy - r * 0.3), (cx + r * 1.2, cy - r * 0.3), (cx, cy - r * 1.2)], fill=dark)
        draw.rectangle([cx - r * 0.2, cy + r * 0.3, cx + r * 0.2, cy + r], fill=dark)
        for side in (-1, 1):
            draw.rectangle([cx + side * r * 0.6 - 8, cy, cx + side * r * 0.6 + 8, cy + 16], fill=(200, 230, 255))
    elif kind == "car":
        draw.rectangle([cx - r * 1.3, cy - r * 0.2, cx + r * 1.3, cy + r * 0.4], fill=color)
        draw.polygon([(cx - r * 0.7, cy - r * 0.2), (cx - r * 0.4, cy - r * 0.7), (cx + r * 0.5, cy - r * 0.7),
                      (cx + r * 0.8, cy - r * 0.2)], fill=color)
        for side in (-1, 1):
            draw.ellipse([cx + side * r * 0.8 - 14, cy + r * 0.2, cx + side * r * 0.8 + 14, cy + r * 0.2 + 28],
                         fill=(20, 20, 20))
    elif kind == "tree":
        draw.rectangle([cx - r * 0.15, cy, cx + r * 0.15, cy + r * 1.3], fill=(110, 70, 30))
        draw.ellipse([cx - r, cy - r * 1.2, cx + r, cy + r * 0.3], fill=(rng.randint(20, 90), rng.randint(120, 200), 40))
    elif kind == "flower":
        for k in range(rng.randint(5, 8)):
            a = 2 * math.pi * k / 7
            px, py = cx + math.cos(a) * r * 0.6, cy + math.sin(a) * r * 0.6
            draw.ellipse([px - r * 0.35, py - r * 0.35, px + r * 0.35, py + r * 0.35], fill=color)
        draw.ellipse([cx - r * 0.3, cy - r * 0.3, cx + r * 0.3, cy + r * 0.3], fill=(240, 200, 40))
    elif kind == "fish":
        draw.ellipse([cx - r * 1.2, cy - r * 0.5, cx + r * 0.8, cy + r * 0.5], fill=color)
        draw.polygon([(cx + r * 0.6, cy), (cx + r * 1.4, cy - r * 0.6), (cx + r * 1.4, cy + r * 0.6)], fill=color)
        draw.ellipse([cx - r * 0.9, cy - r * 0.15, cx - r * 0.7, cy + r * 0.05], fill=dark)
    else:  # landscape: sky, hills, a sun
        draw.rectangle([0, 0, size, size * 0.6], fill=(rng.randint(90, 160), rng.randint(150, 210), 255))
        for k in range(3):
            hx = rng.uniform(0, size)
            draw.ellipse([hx - 80, size * 0.45 + 10 * k, hx + 80, size * 1.3], fill=(40, rng.randint(100, 180), 50))
        draw.ellipse([cx - 14, 14, cx + 14, 42], fill=(255, 220, 60))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.0)))


def generate_collection(out_dir: str, images_per_class: int = 100, seed: int = 11, flip_share: float = 0.05,
                        copy_share: float = 0.05, outlier_share: float = 0.03) -> Dict[str, List]:
    """Writes `<out_dir>/{cat,dog}/*.jpg` and `<out_dir>/truth.json`; returns the truth.

    truth: flipped [source], near_copies [[original source, copy source, kind]], outliers [source],
    each a path relative to out_dir. Shares are of the faces drawn (2 x images_per_class).
    """
    rng = random.Random(seed)
    faces = [(kind, i, draw_face(kind, rng)) for kind in CLASS_NAMES for i in range(images_per_class)]
    total = len(faces)
    order = list(range(total))
    rng.shuffle(order)
    n_flip, n_copy = round(total * flip_share), round(total * copy_share)
    flipped, copied = set(order[:n_flip]), order[n_flip:n_flip + n_copy]
    truth: Dict[str, List] = {"flipped": [], "near_copies": [], "outliers": []}
    for name in CLASS_NAMES:
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)

    def write(folder: str, name: str, data: bytes) -> str:
        rel = f"{folder}/{name}"
        with open(os.path.join(out_dir, folder, name), "wb") as f:
            f.write(data)
        return rel

    sources = {}
    for index, (kind, i, image) in enumerate(faces):
        folder = kind
        if index in flipped:
            folder = CLASS_NAMES[1 - CLASS_NAMES.index(kind)]
        sources[index] = write(folder, f"{kind}_{i:04d}.jpg", jpeg_bytes(image))
        if index in flipped:
            truth["flipped"].append(sources[index])
    for index in copied:
        kind, i, image = faces[index]
        copy_kind = COPY_KINDS[rng.randrange(len(COPY_KINDS))]
        copy, quality = near_copy(image, copy_kind, rng)
        rel = write(kind, f"copy_of_{kind}_{i:04d}.jpg", jpeg_bytes(copy, quality))
        truth["near_copies"].append([sources[index], rel, copy_kind])
    for k in range(round(total * outlier_share)):
        kind = OUTLIER_KINDS[k % len(OUTLIER_KINDS)]
        folder = CLASS_NAMES[rng.randrange(len(CLASS_NAMES))]
        truth["outliers"].append(write(folder, f"{kind}_{k:04d}.jpg", jpeg_bytes(draw_thing(kind, rng))))
    with open(os.path.join(out_dir, TRUTH_FILE), "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1)
    return truth


def read_truth(collection_dir: str) -> Dict[str, List]:
    with open(os.path.join(collection_dir, TRUTH_FILE), encoding="utf-8") as f:
        return json.load(f)


def score_audit(truth: Dict[str, List], audit_dir: str) -> Dict[str, float]:
    """Precision and recall of an audit's lists (contract/audit.py CSVs) against the planted faults."""
    import csv

    from contract import audit as names

    def rows(name):
        with open(os.path.join(audit_dir, name), encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def share(part, whole):
        return len(part) / len(whole) if whole else 1.0

    flipped, planted = set(truth["flipped"]), set(truth["outliers"])
    copies = {frozenset(pair[:2]) for pair in truth["near_copies"]}
    issues = {r["source"] for r in rows(names.LABEL_ISSUES_FILE)}
    pairs = {frozenset((r["source_a"], r["source_b"])) for r in rows(names.NEAR_DUPLICATES_FILE)}
    found_outliers = {r["source"] for r in rows(names.OUTLIERS_FILE)}
    return {
        "label_issues_recall": share(issues & flipped, flipped),
        "label_issues_precision": share(issues & flipped, issues),
        "label_issues_reported": len(issues),
        "near_copies_found": share(pairs & copies, copies),
        "near_copy_pairs_not_copies": 1.0 - share(pairs & copies, pairs) if pairs else 0.0,
        "near_copy_pairs_reported": len(pairs),
        "outliers_found": share(found_outliers & planted, planted),
        "outliers_precision": share(found_outliers & planted, found_outliers),
        "outliers_reported": len(found_outliers),
    }
