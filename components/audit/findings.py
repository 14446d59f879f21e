"""The audit over every split's features: near-duplicates, leaks, likely label errors, outliers.

Pure functions on the embeddings (contract/audit.SplitEmbeddings) and the class names; the TFX
component (executor.py) and `snout audit` (cli/audit.py) both call `audit` then `write_findings`.
An image is reported as an outlier (fits no class) or as a label issue (fits another class
better), not both.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

import contract
from contract import audit as names
from contract.audit import SplitEmbeddings
from components.audit import label_issues, near_duplicates, outliers
from components.audit.settings import AuditSettings

GRADED_SPLITS = (contract.VALIDATION_SPLIT, contract.TEST_SPLIT)  # a near-copy in train leaks into these


@dataclass
class AuditResult:
    rows: List[Tuple[str, int, str]]  # (split, index in split, source) of every image, in audit order
    class_names: List[str]
    labels: np.ndarray
    label_issues: List[dict] = field(default_factory=list)
    near_duplicates: List[dict] = field(default_factory=list)
    outliers: List[dict] = field(default_factory=list)
    leaks: List[dict] = field(default_factory=list)
    counts: Dict[str, int] = field(default_factory=dict)
    seconds: Dict[str, float] = field(default_factory=dict)


def _display_source(split: str, index: int, source: str) -> str:
    """The record's source path; a record without one (older datasets) by its place in the split."""
    return source or f"{split}/record-{index}"


def audit(splits: Dict[str, SplitEmbeddings], settings: AuditSettings) -> AuditResult:
    class_names = list(settings.class_names)
    order = [s for s in contract.SPLITS if s in splits] + sorted(set(splits) - set(contract.SPLITS))
    rows = [(s, i, _display_source(s, i, src)) for s in order for i, src in enumerate(splits[s].sources)]
    features = np.concatenate([splits[s].features for s in order]) if rows else np.zeros((0, 1), np.float32)
    labels = np.concatenate([splits[s].labels for s in order]).astype(np.int64) if rows else np.zeros(0, np.int64)
    pixels = np.concatenate([splits[s].pixels for s in order]) if rows else np.zeros((0, 1), np.float32)
    result = AuditResult(rows, class_names, labels)
    if len(rows) < 2:
        result.counts = _counts(result, splits)
        return result
    timer = time.time()
    pairs = near_duplicates.near_duplicate_pairs(features, pixels, settings.near_duplicate_threshold)
    result.seconds["near_duplicates"] = time.time() - timer
    timer = time.time()
    found = label_issues.find_label_issues(features, labels, len(class_names), folds=settings.folds,
                                           seed=settings.seed)
    result.seconds["label_issues"] = time.time() - timer
    flagged_outliers, outlier_scores = outliers.find_outliers(features, labels, len(class_names))
    result.near_duplicates = [_pair_row(rows, i, j, s) for i, j, s in pairs]
    result.leaks = _leaks(rows, pairs)
    result.outliers = [{"index": int(i), "source": rows[i][2], "split": rows[i][0], "given": class_names[labels[i]],
                        "score": float(outlier_scores[i])} for i in flagged_outliers]
    is_outlier = set(int(i) for i in flagged_outliers)
    result.label_issues = [
        {"index": int(i), "source": rows[i][2], "split": rows[i][0], "given": class_names[labels[i]],
         "suggested": class_names[found.suggested[i]], "score": float(found.scores[i])}
        for i in found.indices if int(i) not in is_outlier and found.suggested[i] != labels[i]]
    result.counts = _counts(result, splits)
    return result


def _pair_row(rows, i: int, j: int, similarity: float) -> dict:
    return {"index_a": i, "index_b": j, "source_a": rows[i][2], "split_a": rows[i][0], "source_b": rows[j][2],
            "split_b": rows[j][0], "similarity": similarity}


def _leaks(rows, pairs) -> List[dict]:
    """Validation/test images with a near-copy in train: each once, with its most similar train image."""
    best: Dict[int, Tuple[int, float]] = {}
    for i, j, s in pairs:
        for graded, other in ((i, j), (j, i)):
            if rows[graded][0] in GRADED_SPLITS and rows[other][0] == contract.TRAIN_SPLIT:
                if graded not in best or s > best[graded][1]:
                    best[graded] = (other, s)
    return [{"index": g, "source": rows[g][2], "split": rows[g][0], "train_source": rows[o][2], "similarity": s}
            for g, (o, s) in sorted(best.items(), key=lambda kv: -kv[1][1])]


def _counts(result: AuditResult, splits) -> Dict[str, int]:
    leaked = {}
    for leak in result.leaks:
        leaked[leak["split"]] = leaked.get(leak["split"], 0) + 1
    test = splits.get(contract.TEST_SPLIT)
    return {"images": len(result.rows), "label_issues": len(result.label_issues),
            "near_duplicate_pairs": len(result.near_duplicates), "outliers": len(result.outliers),
            "leaked_validation": leaked.get(contract.VALIDATION_SPLIT, 0),
            names.LEAKED_TEST: leaked.get(contract.TEST_SPLIT, 0),
            names.TEST_IMAGES: int(len(test.labels)) if test is not None else 0}


def summary_line(result: AuditResult, where: str) -> str:
    """The one terminal line of counts."""
    c = result.counts
    return (f"[snout] audit of {c['images']} images: {c['label_issues']} likely label errors, "
            f"{c['near_duplicate_pairs']} near-duplicate pairs ({c[names.LEAKED_TEST]} of {c[names.TEST_IMAGES]} "
            f"test and {c['leaked_validation']} validation images have a near-copy in train), "
            f"{c['outliers']} outliers; lists in {where}")


def _csv_text(columns: Sequence[str], rows: List[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([f"{row[c]:.4f}" if isinstance(row[c], float) else row[c] for c in columns])
    return out.getvalue()


def write_findings(result: AuditResult, out_dir: str, settings: AuditSettings) -> None:
    """The four CSV lists (most likely first), leaks.csv and audit.json (counts, settings, seconds)."""
    import tensorflow as tf

    tf.io.gfile.makedirs(out_dir)
    for name, columns, rows in (
            (names.LABEL_ISSUES_FILE, names.LABEL_ISSUES_COLUMNS, result.label_issues),
            (names.NEAR_DUPLICATES_FILE, names.NEAR_DUPLICATES_COLUMNS, result.near_duplicates),
            (names.OUTLIERS_FILE, names.OUTLIERS_COLUMNS, result.outliers),
            (names.LEAKS_FILE, names.LEAKS_COLUMNS, result.leaks)):
        with tf.io.gfile.GFile(f"{out_dir.rstrip('/')}/{name}", "w") as f:
            f.write(_csv_text(columns, rows))
    summary = dict(result.counts, settings=settings.to_config(), seconds=result.seconds,
                   shown=_shown(result, settings.thumbnails_per_kind),
                   **{names.LEAKED_TEST_INDICES: sorted(result.rows[leak["index"]][1] for leak in result.leaks
                                                        if leak["split"] == contract.TEST_SPLIT)},
                   files={"label_issues": names.LABEL_ISSUES_FILE, "near_duplicates": names.NEAR_DUPLICATES_FILE,
                          "outliers": names.OUTLIERS_FILE, "leaks": names.LEAKS_FILE})
    with tf.io.gfile.GFile(f"{out_dir.rstrip('/')}/{names.AUDIT_FILE}", "w") as f:
        f.write(json.dumps(summary, indent=2))


def _shown(result: AuditResult, per_kind: int) -> Dict[str, List[dict]]:
    """The first findings of each kind with their thumbnails' names: what the report pictures."""
    def thumb(index: int) -> str:
        split, in_split, _ = result.rows[index]
        return names.thumbnail_name(split, in_split)

    def plain(item: dict) -> dict:
        return {k: v for k, v in item.items() if not k.startswith("index")}

    return {
        "label_issues": [dict(plain(i), thumbnail=thumb(i["index"])) for i in result.label_issues[:per_kind]],
        "outliers": [dict(plain(i), thumbnail=thumb(i["index"])) for i in result.outliers[:per_kind]],
        "near_duplicates": [dict(plain(p), thumbnail_a=thumb(p["index_a"]), thumbnail_b=thumb(p["index_b"]))
                            for p in result.near_duplicates[:per_kind]],
    }
