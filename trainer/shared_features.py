"""Phase 1 and the Tuner's cached mode read the run's embeddings (contract/audit.py) when they fit.

The Embeddings component computed the frozen base's pooled features of every image, plus the
augmented views phase 1 keeps, with the same base and Transform graph: reading them replaces a
base pass over the data. They fit when they were computed for this network (the same `Network`
settings) and, for phase 1 with augmentation, with at least the views it keeps at the same
strength and seed. Otherwise (or with no embeddings) the caller runs the base itself.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np

import contract
from contract import audit as names
from trainer.settings import Network


def _mismatch(stored: dict, network: Network, views: int, augment_strength: float, seed: int) -> str:
    """Why features computed with the `stored` EmbeddingsSettings do not fit, or ""."""
    try:
        theirs = Network.from_config(stored.get("network"))
    except ValueError as e:
        return f"unreadable settings ({e})"
    if theirs != network:
        different = [k for k, v in network.to_config().items() if theirs.to_config().get(k) != v]
        return f"another network ({', '.join(different)})"
    if views:
        if int(stored.get("augmented_views", 0)) < views:
            return f"{stored.get('augmented_views', 0)} augmented view(s), phase 1 keeps {views}"
        if float(stored.get("augment_strength", 0)) != float(augment_strength) or int(stored.get("seed", -1)) != seed:
            return "augmented views of another strength or seed"
    return ""


def load(uri: str, network: Network, views: int = 0, augment_strength: float = 0.0, seed: int = 0,
         who: str = "phase 1") -> Optional[tuple]:
    """((train features [+ views], labels), (validation features, labels)) from the embeddings at `uri`,
    or None ("" or features that do not fit: the caller runs the base)."""
    if not uri:
        return None
    start = time.time()
    info = names.read_embeddings_info(uri)
    problem = _mismatch(info.get("settings", {}), network, views, augment_strength, seed)
    splits = info.get("splits", {})
    if not problem and not (splits.get(contract.TRAIN_SPLIT) and splits.get(contract.VALIDATION_SPLIT)):
        problem = "no train or validation features"
    if problem:
        print(f"[snout] {who}: the run's embeddings do not fit ({problem}); running the base instead")
        return None
    train = names.read_split_embeddings(uri, contract.TRAIN_SPLIT, views=views)
    validation = names.read_split_embeddings(uri, contract.VALIDATION_SPLIT, views=0)
    x = np.concatenate([train.features] + list(train.views))
    y = np.concatenate([train.labels] * (1 + len(train.views)))
    print(f"[snout] {who}: read the run's embeddings ({len(train.labels)} training images x {1 + len(train.views)} "
          f"view(s), {len(validation.labels)} validation images) in {time.time() - start:.1f}s: no base pass")
    return (x, y), (validation.features, validation.labels)
