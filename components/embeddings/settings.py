"""The Embeddings component's settings: one frozen dataclass, built by SnoutConfig.embeddings_settings
(pipeline/config.py), handed over as an execution property and parsed once by the executor."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from contract.settings import Settings
from trainer.settings import Network

# The code that computes the features: its digest is a setting, since TFX's cache key holds no code of
# a component of snout's own (and packages only trainer/ as user code).
FEATURE_CODE = ("components/embeddings/compute.py", "trainer/head_search.py", "trainer/model.py",
                "trainer/backbones.py", "trainer/base_weights.py", "trainer/augmentation.py",
                "trainer/preprocessing.py", "contract/audit.py")


@dataclass(frozen=True)
class EmbeddingsSettings(Settings):
    """Everything that changes the features, and nothing else: the component's cache key (a new
    --epochs or --tuner-trials reuses them)."""

    network: Network          # the base whose pooled output they are, at the input Transform makes
    # The augmented views phase 1 keeps (trainer/training.py): of which split, how many (0: none),
    # how strong, drawn with which seed.
    view_split: str
    augmented_views: int
    augment_strength: float
    seed: int
    code_digest: str          # of FEATURE_CODE


def code_digest() -> str:
    """sha256 (first 16 hex digits) of FEATURE_CODE."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    digest = hashlib.sha256()
    for name in FEATURE_CODE:
        with open(os.path.join(root, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()[:16]
