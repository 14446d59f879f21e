"""The data side of a run: the dataset's summary.json (counts, skips) and ExampleValidator's anomalies."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import contract


@dataclass
class DataStats:
    data_dir: Optional[str] = None
    description: str = ""
    generated: bool = False
    counts: Dict[str, Dict[str, int]] = field(default_factory=dict)  # split -> class -> n
    skipped: Dict[str, int] = field(default_factory=dict)  # reason -> n
    warnings: List[str] = field(default_factory=list)


def read_data_stats(data_dir: Optional[str]) -> DataStats:
    if not data_dir:
        raise FileNotFoundError("the ExampleGen execution names no input_base")
    summary = contract.read_summary(data_dir)
    if not summary:
        raise FileNotFoundError(f"{os.path.join(data_dir, contract.SUMMARY_FILE)} not found")
    return DataStats(
        data_dir=data_dir, description=summary.get("description", ""), generated=bool(summary.get("generated")),
        counts={split: {c: int(n) for c, n in per.items()} for split, per in summary.get("counts", {}).items()},
        skipped={reason: int(n) for reason, n in (summary.get("skipped") or {}).items()},
        warnings=list(summary.get("warnings", [])))


def read_anomalies(anomalies_uri: str) -> Dict[str, Dict[str, str]]:
    """{split: {feature: description}} from ExampleValidator's Split-*/SchemaDiff.pb files."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = {}
    for path in sorted(glob.glob(os.path.join(anomalies_uri, "Split-*", "SchemaDiff.pb"))):
        split = os.path.basename(os.path.dirname(path))[len("Split-"):]
        proto = anomalies_pb2.Anomalies()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
        found[split] = {feature: (info.short_description or info.description)
                        for feature, info in proto.anomaly_info.items()}
    return found
