"""summary.json contents and the console summary printed at the end of `snout ingest`."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from ingest import reasons
from ingest.split import RULE, SPLITS, STABILITY


def build(
    *,
    layout: str,
    source: str,
    class_names: Sequence[str],
    placement,
    skipped: Sequence[Tuple[str, str, str]],
    ignored: Sequence[Tuple[str, str]],
    listed_files: int,
    ratios: Dict[str, float],
    settings: dict,
    record_bytes: Dict[str, int],
    record_files: Dict[str, List[str]],
    seconds: float,
) -> dict:
    counts = placement.counts
    skip_counts = {r: 0 for r in reasons.ALL}
    for _, reason, _ in skipped:
        skip_counts[reason] += 1
    ignore_counts = {r: 0 for r in reasons.IGNORED}
    for _, reason in ignored:
        ignore_counts[reason] += 1
    totals = {s: sum(counts[s].values()) for s in SPLITS}
    per_class = {c: sum(counts[s][c] for s in SPLITS) for c in class_names}

    warnings = []
    for name in class_names:
        if per_class[name] == 0:
            warnings.append(f"class '{name}' has no usable images")
        elif per_class[name] < len(SPLITS):
            warnings.append(f"class '{name}' has {per_class[name]} image(s): too few for a photo in "
                            "each of train, validation and test")

    return {
        "description": f"{sum(totals.values())} photos of {len(class_names)} classes ingested from "
        f"{source} ({layout} layout)",
        "created_by": "snout ingest",
        "layout": layout,
        "source": source,
        "classes": list(class_names),
        "num_classes": len(class_names),
        "counts": counts,
        "totals": {**totals, "all": sum(totals.values())},
        "per_class": per_class,
        "listed_files": listed_files,
        "skipped": skip_counts,
        "skipped_total": len(skipped),
        "ignored": ignore_counts,
        "ignored_files": len(ignored),
        "kept_original": placement.kept_original,
        "reencoded": placement.reencoded,
        "bytes": {
            "input_images": placement.input_bytes,
            "stored_images": dict(placement.stored_bytes),
            "records": record_bytes,
        },
        "record_files": record_files,
        "split": {"rule": RULE, "ratios": ratios, "stability": STABILITY},
        "settings": settings,
        "warnings": warnings,
        "seconds": round(seconds, 2),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def format_console(summary: dict, out_dir: str) -> str:
    splits = list(SPLITS)
    width = max([len("class")] + [len(c) for c in summary["classes"]] + [len("total")])
    lines = [
        f"snout ingest: {summary['totals']['all']} images written to {out_dir} "
        f"in {summary['seconds']:.1f}s ({summary['listed_files']} listed, "
        f"{summary['skipped_total']} skipped, {summary['ignored_files']} not opened)",
        "  " + "class".ljust(width) + "".join(f"{s:>12}" for s in splits),
    ]
    for c in summary["classes"]:
        lines.append("  " + c.ljust(width) + "".join(f"{summary['counts'][s][c]:>12}" for s in splits))
    lines.append("  " + "total".ljust(width) + "".join(f"{summary['totals'][s]:>12}" for s in splits))
    skips = {r: n for r, n in summary["skipped"].items() if n}
    if skips:
        lines.append("  skipped: " + ", ".join(f"{r} {n}" for r, n in skips.items())
                     + " (list: skipped.tsv)")
    ignored = {r: n for r, n in summary["ignored"].items() if n}
    if ignored:
        lines.append("  not opened: " + ", ".join(f"{r} {n}" for r, n in ignored.items())
                     + " (list: ignored.tsv)")
    b = summary["bytes"]
    lines.append(
        f"  bytes: {_mb(b['input_images'])} of accepted input -> "
        f"{_mb(sum(b['records'].values()))} of records "
        f"({summary['kept_original']} kept as-is, {summary['reencoded']} re-encoded)"
    )
    for w in summary["warnings"]:
        lines.append(f"  warning: {w}")
    lines.append(f"  next: snout run --data {out_dir}")
    return "\n".join(lines)
