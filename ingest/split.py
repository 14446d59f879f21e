"""Train/validation/test assignment: a stable hash of each image's bytes, then a per-class fill rule.

Hash split: u = first 8 bytes of sha256(file bytes) / 2**64 places a photo in validation if
u < v, in test if u < v + t, else in train. It depends on the photo alone, so re-running gives
the same split, renaming or re-labelling a file does not move it, and identical files (one of
which is kept) land together. Fill rule: per class, each of the first min(n, 3) splits of
(train, validation, test) must hold a photo; an empty one takes, from the class's fullest split
that can spare one, the photo whose u is nearest to its range. Only photos moved by the fill
rule, before or after a change, can change split when photos are added or removed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Dict, Iterable, List, Tuple

from contract import SPLITS, TEST_SPLIT, TRAIN_SPLIT, VALIDATION_SPLIT  # SPLITS' order: the fill rule's of need

DEFAULT_VALIDATION_RATIO = 0.1
DEFAULT_TEST_RATIO = 0.1
RULE = (
    "u = first 8 bytes of sha256(image file bytes) / 2**64; validation if u < validation_ratio, "
    "test if u < validation_ratio + test_ratio, else train. Then per class of n photos, each of the "
    "first min(n, 3) of (train, validation, test) that is empty takes, from the class's fullest split "
    "that can spare one (ties: train, validation, test), the photo whose u is nearest its range"
)
STABILITY = (
    "identical files are kept once (the first path in sort order) and share one split; a photo's split "
    "depends only on its bytes unless the fill rule moved it, so adding or removing photos can only move "
    "photos the fill rule moves before or after the change (at most 2 per class); changing the ratios "
    "moves photos across the changed boundaries"
)


def split_ratios(validation_ratio: float, test_ratio: float) -> Dict[str, float]:
    """Validated ratios; train gets what is left. Raises ValueError with a user-facing message."""
    for name, value in (("--validation-ratio", validation_ratio), ("--test-ratio", test_ratio)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be in (0, 1), got {value}")
    train = 1.0 - validation_ratio - test_ratio
    if train <= 0.0:
        raise ValueError(
            f"--validation-ratio + --test-ratio must be < 1, got {validation_ratio + test_ratio}"
        )
    return {TRAIN_SPLIT: train, VALIDATION_SPLIT: validation_ratio, TEST_SPLIT: test_ratio}


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unit_hash(digest: str) -> float:
    """u in [0, 1) from a sha256 hex digest: stable across processes, machines and versions."""
    return int(digest[:16], 16) / 2.0**64


def _ranges(ratios: Dict[str, float]) -> Dict[str, Tuple[float, float]]:
    v, t = ratios[VALIDATION_SPLIT], ratios[TEST_SPLIT]
    return {VALIDATION_SPLIT: (0.0, v), TEST_SPLIT: (v, v + t), TRAIN_SPLIT: (v + t, 1.0)}


def hash_split(u: float, ratios: Dict[str, float]) -> str:
    for split, (low, high) in _ranges(ratios).items():
        if low <= u < high:
            return split
    return TRAIN_SPLIT


def assign_splits(photos: Iterable[Tuple[str, str, str]], ratios: Dict[str, float]) -> Dict[str, str]:
    """(key, label, sha256 digest) of each kept photo -> {key: split}."""
    by_class: Dict[str, List[Tuple[float, str]]] = defaultdict(list)
    for key, label, digest in photos:
        by_class[label].append((unit_hash(digest), key))
    assigned: Dict[str, str] = {}
    for members in by_class.values():
        assigned.update(_split_class(sorted(members), ratios))
    return assigned


def _split_class(members: List[Tuple[float, str]], ratios: Dict[str, float]) -> Dict[str, str]:
    ranges = _ranges(ratios)
    groups: Dict[str, List[Tuple[float, str]]] = {s: [] for s in SPLITS}
    for u, key in members:
        groups[hash_split(u, ratios)].append((u, key))
    needed = SPLITS[: min(len(members), len(SPLITS))]
    for target in needed:
        if groups[target]:
            continue
        donors = [s for s in SPLITS if len(groups[s]) >= 2 or (s not in needed and groups[s])]
        donor = max(donors, key=lambda s: len(groups[s]))  # max keeps the first of equals
        low, high = ranges[target]
        moved = min(groups[donor], key=lambda m: (max(low - m[0], m[0] - high, 0.0), m[1]))
        groups[donor].remove(moved)
        groups[target].append(moved)
    return {key: split for split, group in groups.items() for _, key in group}
