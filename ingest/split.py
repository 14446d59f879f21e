"""Deterministic train/eval/test assignment from a stable hash of each file's relative path.

Each file is placed on its own (no ranking, no shuffling), so re-running gives the same split
and adding files never moves old ones. Stratification is statistical: each class's files are
hashed independently, so every class gets about the requested fractions, not exactly.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Dict

from contract import EVAL_SPLIT, TEST_SPLIT, TRAIN_SPLIT

SPLITS = (TRAIN_SPLIT, EVAL_SPLIT, TEST_SPLIT)
# Eval takes the bottom of [0,1), then test, then train: adding or resizing a test split never
# moves a file into or out of eval, which is what the pipeline's model gate is judged on.
_ORDER = (EVAL_SPLIT, TEST_SPLIT, TRAIN_SPLIT)
RULE = (
    "u = first 8 bytes of sha256(NFC-normalised relative path, UTF-8) / 2**64; "
    "eval if u < eval_ratio, test if u < eval_ratio + test_ratio, else train"
)


def split_ratios(eval_ratio: float, test_ratio: float = 0.0) -> Dict[str, float]:
    """Validated ratios; train gets what is left. Raises ValueError with a user-facing message."""
    for name, value in (("--eval-ratio", eval_ratio), ("--test-ratio", test_ratio)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    if eval_ratio <= 0.0:
        raise ValueError("--eval-ratio must be > 0: the pipeline evaluates on the eval split")
    train = 1.0 - eval_ratio - test_ratio
    if train <= 0.0:
        raise ValueError(f"--eval-ratio + --test-ratio must be < 1, got {eval_ratio + test_ratio}")
    return {TRAIN_SPLIT: train, EVAL_SPLIT: eval_ratio, TEST_SPLIT: test_ratio}


def unit_hash(rel_id: str) -> float:
    """Stable across processes, machines and Python versions (unlike the salted built-in hash).

    NFC: macOS writes decomposed file names, Linux keeps what it is given; the same collection
    copied between them must split the same. surrogateescape: non-UTF-8 names still hash.
    """
    key = unicodedata.normalize("NFC", rel_id).encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(key).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(rel_id: str, ratios: Dict[str, float]) -> str:
    u = unit_hash(rel_id)
    bound = 0.0
    for split in _ORDER[:-1]:
        bound += ratios.get(split, 0.0)
        if u < bound:
            return split
    return TRAIN_SPLIT
