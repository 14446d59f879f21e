"""After the Beam run: drop duplicate images, place the rest in splits, copy their records into shards.

Records of a split are ordered by content hash (a fixed, class-mixed order) and written
uncompressed (JPEG bytes do not compress) into shards of about --shard-mb.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from ingest import layouts, reasons
from ingest.beam_pipeline import SPILL_SUFFIX
from ingest.split import SPLITS, assign_splits
from contract import RECORD_SUFFIX, record_writer

SHARD_PREFIX = "images"


@dataclass
class Placement:
    manifest: List[Tuple[str, str, str]] = field(default_factory=list)  # (split, label, rel_id)
    skipped: List[Tuple[str, str, str]] = field(default_factory=list)  # (rel_id, reason, detail)
    counts: Dict[str, Dict[str, int]] = field(default_factory=dict)  # split -> label -> n
    stored_bytes: Dict[str, int] = field(default_factory=dict)  # split -> encoded image bytes
    input_bytes: int = 0
    kept_original: int = 0
    reencoded: int = 0
    shards: Dict[str, int] = field(default_factory=dict)


def _facts_by_file(items: Sequence[layouts.Item], facts: List[dict]) -> Dict[str, dict]:
    by_rel: Dict[str, dict] = {}
    for fact in facts:
        by_rel.setdefault(fact["rel"], fact)  # a retried bundle may report a file twice
    lost = [item.rel_id for item in items if item.rel_id not in by_rel]
    if lost:
        raise RuntimeError(f"the Beam run reported nothing for {len(lost)} listed files, e.g. {lost[0]!r}")
    return by_rel


def _drop_duplicates(checked: List[dict], placement: Placement) -> List[dict]:
    """Keeps the first path (in sort order) of each distinct content; counts the others."""
    kept: Dict[str, dict] = {}
    for fact in sorted(checked, key=lambda f: f["rel"]):
        first = kept.setdefault(fact["sha256"], fact)
        if first is not fact:
            other = "" if first["label"] == fact["label"] else f" (class {first['label']!r}, not {fact['label']!r})"
            placement.skipped.append((fact["rel"], reasons.DUPLICATE_IMAGE, f"same bytes as {first['rel']}{other}"))
    return list(kept.values())


def place(
    items: Sequence[layouts.Item],
    facts: List[dict],
    class_names: Sequence[str],
    ratios: Dict[str, float],
    spill_dir: str,
    out_dir: str,
    shard_mb: float,
) -> Placement:
    placement = Placement(counts={s: {c: 0 for c in class_names} for s in SPLITS})
    by_rel = _facts_by_file(items, facts)
    checked = []
    for fact in by_rel.values():
        if "sha256" in fact:
            checked.append(fact)
        else:
            placement.skipped.append((fact["rel"], fact["reason"], fact["detail"]))
    kept = _drop_duplicates(checked, placement)
    split_of = assign_splits(((f["rel"], f["label"], f["sha256"]) for f in kept), ratios)
    for split in SPLITS:
        members = sorted((f for f in kept if split_of[f["rel"]] == split), key=lambda f: f["sha256"])
        placement.shards[split] = _write_split(members, spill_dir, os.path.join(out_dir, split), shard_mb)
        placement.stored_bytes[split] = sum(f["image_bytes"] for f in members)
        for f in members:
            placement.counts[split][f["label"]] += 1
            placement.manifest.append((split, f["label"], f["rel"]))
            placement.input_bytes += f["input_bytes"]
            if f["kept"]:
                placement.kept_original += 1
            else:
                placement.reencoded += 1
    return placement


def _write_split(members: List[dict], spill_dir: str, split_dir: str, shard_mb: float) -> int:
    """Writes `members` into shards of about `shard_mb`; returns the number of shards (0 if none)."""
    os.makedirs(split_dir, exist_ok=True)
    total = sum(f["length"] for f in members)
    target = min(len(members), math.ceil(total / (shard_mb * 1024 * 1024)))
    spills: Dict[str, object] = {}
    paths: List[str] = []
    writer, written = None, 0
    try:
        for fact in members:
            if writer is None or (len(paths) < target and written * target >= len(paths) * total):
                if writer is not None:
                    writer.close()
                paths.append(os.path.join(split_dir, f"{SHARD_PREFIX}-{len(paths):05d}.partial"))
                writer = record_writer(paths[-1])
            spill = spills.get(fact["spill"])
            if spill is None:
                spill = spills[fact["spill"]] = open(os.path.join(spill_dir, fact["spill"] + SPILL_SUFFIX), "rb")
            spill.seek(fact["offset"])
            writer.write(spill.read(fact["length"]))
            written += fact["length"]
    finally:
        if writer is not None:
            writer.close()
        for spill in spills.values():
            spill.close()
    for i, path in enumerate(paths):  # the shard count is known only now
        os.replace(path, os.path.join(split_dir, f"{SHARD_PREFIX}-{i:05d}-of-{len(paths):05d}{RECORD_SUFFIX}"))
    return len(paths)
