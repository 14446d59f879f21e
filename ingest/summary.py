"""summary.json contents and the console summary printed at the end of `snout ingest`."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from ingest import reasons
from ingest.split import RULE, SPLITS

STRATIFICATION_NOTE = (
    "stratification is statistical: each file is placed by its own hash, so every class gets "
    "about the requested fractions, not exactly; adding files never moves existing ones"
)


def build(
    *,
    layout: str,
    source: str,
    class_names: Sequence[str],
    report: dict,
    listing_skips: Sequence[Tuple[str, str, str]],
    listed_files: int,
    ignored_files: int,
    ratios: Dict[str, float],
    settings: dict,
    record_bytes: Dict[str, int],
    record_files: Dict[str, List[str]],
    seconds: float,
) -> dict:
    counts = {s: {c: 0 for c in class_names} for s in SPLITS}
    for key, n in report["counts"].items():
        split, label = key.split("\t", 1)
        counts[split][label] = n
    skipped = {r: 0 for r in reasons.ALL}
    for _, reason, _ in list(listing_skips) + [tuple(s) for s in report["skipped"]]:
        skipped[reason] = skipped.get(reason, 0) + 1
    totals = {s: sum(counts[s].values()) for s in SPLITS}
    per_class = {c: sum(counts[s][c] for s in SPLITS) for c in class_names}

    warnings = []
    for name in class_names:
        if per_class[name] == 0:
            warnings.append(f"class '{name}' has no usable images")
        elif counts["eval"][name] == 0:
            warnings.append(f"class '{name}' has no eval examples ({per_class[name]} in total)")
    if ratios.get("test", 0.0) > 0 and totals["test"] == 0:
        warnings.append("--test-ratio > 0 but no file hashed into the test split")

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
        "ignored_files": ignored_files,
        "skipped": skipped,
        "skipped_total": sum(skipped.values()),
        "kept_original": report["kept_original"],
        "reencoded": report["reencoded"],
        "bytes": {
            "input_images": report["input_bytes"],
            "stored_images": {s: report["image_bytes"].get(s, 0) for s in SPLITS},
            "records_gzip": record_bytes,
        },
        "record_files": record_files,
        "split": {"rule": RULE, "ratios": ratios, "note": STRATIFICATION_NOTE},
        "settings": settings,
        "warnings": warnings,
        "seconds": round(seconds, 2),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def format_console(summary: dict, out_dir: str) -> str:
    splits = [s for s in SPLITS if summary["totals"][s] or summary["split"]["ratios"].get(s)]
    width = max([len("class")] + [len(c) for c in summary["classes"]] + [len("total")])
    lines = [
        f"snout ingest: {summary['totals']['all']} images written to {out_dir} "
        f"in {summary['seconds']:.1f}s ({summary['listed_files']} listed, "
        f"{summary['skipped_total']} skipped, {summary['ignored_files']} ignored)",
        "  " + "class".ljust(width) + "".join(f"{s:>9}" for s in splits),
    ]
    for c in summary["classes"]:
        lines.append("  " + c.ljust(width) + "".join(f"{summary['counts'][s][c]:>9}" for s in splits))
    lines.append("  " + "total".ljust(width) + "".join(f"{summary['totals'][s]:>9}" for s in splits))
    skips = {r: n for r, n in summary["skipped"].items() if n}
    if skips:
        lines.append("  skipped: " + ", ".join(f"{r} {n}" for r, n in skips.items())
                     + " (list: skipped.tsv)")
    b = summary["bytes"]
    lines.append(
        f"  bytes: {_mb(b['input_images'])} of accepted input -> "
        f"{_mb(sum(b['records_gzip'].values()))} of gzip records "
        f"({summary['kept_original']} kept as-is, {summary['reencoded']} re-encoded)"
    )
    for w in summary["warnings"]:
        lines.append(f"  warning: {w}")
    lines.append(f"  next: snout run --data {out_dir}")
    return "\n".join(lines)
