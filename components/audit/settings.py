"""DataAudit's settings: one frozen dataclass, built by SnoutConfig.audit_settings (pipeline/config.py)
for the DAG and by `snout audit`, handed over as an execution property and parsed once by the executor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from contract.settings import Settings


@dataclass(frozen=True)
class AuditSettings(Settings):
    class_names: Tuple[str, ...]       # label index i is class_names[i]
    near_duplicate_threshold: float    # --near-duplicate-threshold (calibrated: bench/calibrate_audit.py)
    # Confident learning's out-of-fold probabilities: this many folds, split with this seed.
    folds: int = 5
    seed: int = 0
    thumbnails_per_kind: int = 24      # findings of each kind the report shows as pictures
