"""The comparison table: one row per setting, data fact or metric, one column per run.

Rows of kind "setting" or "data" whose values differ between runs are marked `differs` (the
page highlights them); metrics differ by nature and are not marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from contract import evaluation as ev
from report.compare.runs import Run
from report.markup import num, pct
from report.metrics import finite

PER_CLASS_ROWS_MAX = 20  # more classes: the 10 with the lowest recall in any run
DIGEST_CHARS = 12


@dataclass
class Row:
    key: str
    label: str
    kind: str                       # setting | data | metric
    values: List[str] = field(default_factory=list)
    differs: bool = False


def setting(run: Run, key: str, default=None):
    """A setting as the run used it: the model's own record first, then the Trainer's custom_config."""
    trained = (run.provenance.get("training") or {}).get("settings") or {}
    for source in (trained, run.provenance, run.config):
        if source.get(key) is not None:
            return source[key]
    return default


def _na(run: Run, what: str) -> str:
    return f"n/a ({run.missing[what]})" if what in run.missing else "n/a"


def backbone(run: Run) -> str:
    name = setting(run, "backbone", "n/a")
    return f"{name} ({setting(run, 'hub_handle')})" if name == "hub" else str(name)


def weights(run: Run) -> str:
    return str(run.provenance.get("weights_description") or setting(run, "weights", "n/a"))


def head(run: Run) -> str:
    h = run.provenance.get("head") or (run.config.get("head") or {})
    if not h:
        return "n/a"
    tuned = setting(run, "tuned", run.report.tuning is not None)
    return (f"{h.get('head_layers')} x Dense {h.get('head_units')}, dropout {h.get('dropout')}, "
            f"lr {h.get('learning_rate'):g}" + (" (tuned)" if tuned else ""))


def epochs_set(run: Run) -> str:
    if setting(run, "epochs") is None:
        return "n/a"
    return f"phase 1: {setting(run, 'epochs')}, phase 2: {setting(run, 'fine_tune_epochs', 0)}"


def epochs_ran(run: Run) -> str:
    history = run.report.history
    if not history:
        return _na(run, "curves")
    parts = [f"{title}: {len(next(iter(history[phase].values()), []))}"
             for phase, title in (("phase1_head", "phase 1"), ("phase2_fine_tune", "phase 2")) if phase in history]
    kept = run.report.history_notes.get("phase2_kept")
    if "phase2_fine_tune" in history and kept is not None:
        parts[-1] += " (kept)" if kept else " (discarded)"
    return ", ".join(parts)


def augmentation(run: Run) -> str:
    strength = setting(run, "augment_strength")
    return "n/a" if strength is None else ("off" if float(strength) == 0 else f"strength {float(strength):g}")


def data_digest(run: Run) -> str:
    if not run.data_digest:
        return _na(run, "data")
    counts = " / ".join(f"{split} {v['records']}" for split, v in run.split_digests.items())
    return f"{run.data_digest[:DIGEST_CHARS]} ({counts})"


def classes(run: Run) -> str:
    names = run.class_names
    return f"{len(names)}: {', '.join(names[:6])}{', ...' if len(names) > 6 else ''}" if names else "n/a"


def test_accuracy(run: Run) -> str:
    m = run.report.evaluation
    if not finite(m.accuracy):
        return _na(run, "test metrics")
    return f"{pct(m.accuracy)} ({num(m.accuracy)} on {m.example_count} {run.report.split} photos)"


def validation_accuracy(run: Run) -> str:
    v = run.report.validation
    return f"{pct(v.get(ev.ACCURACY))} on {int(v.get(ev.EXAMPLE_COUNT) or 0)}" if v else _na(run, "test metrics")


def top_k(run: Run) -> str:
    value = run.report.evaluation.top_k_accuracy
    return pct(value) if finite(value) else f"n/a (computed for more than {ev.TOP_K} classes)"


def training_time(run: Run) -> str:
    if run.training_seconds is None:
        return _na(run, "training time")
    return f"{run.training_seconds:.1f} s ({run.training_seconds_source})"


def model_size(run: Run) -> str:
    if run.model_bytes is None:
        return "n/a"
    trained = run.provenance.get("training") or {}
    params = (f"; {trained['params']:,} parameters, {trained['trainable_params']:,} trainable in the last phase"
              if trained.get("params") is not None else "")
    return f"{run.model_bytes / 1e6:.1f} MB SavedModel{params}"


def verdict(run: Run) -> str:
    b = run.report.blessing
    if b.blessed is None:
        return "n/a"
    return ("blessed" if b.blessed else "NOT blessed") + (f", pushed as version {b.pushed_version}" if b.pushed else "")


def recall(run: Run, class_name: str) -> str:
    values = run.report.evaluation.per_class.get(class_name)
    if values is None:
        return _na(run, "test metrics")
    value = values.get(ev.RECALL)
    return f"{pct(value)} of {values.get('support', 0)}" if finite(value) else "n/a (no example)"


ROWS = [  # key, label, kind, cell
    ("run", "run", "source", lambda r: f"{r.source}: {r.note}" + (f" (Trainer {r.trainer_execution_id})"
                                                                   if r.trainer_execution_id else "")),
    ("backbone", "backbone", "setting", backbone), ("weights", "weights", "setting", weights),
    ("image_size", "image size", "setting", lambda r: f"{setting(r, 'image_size', 'n/a')} px"),
    ("head", "head", "setting", head), ("epochs", "epochs set", "setting", epochs_set),
    ("epochs_ran", "epochs run (best epoch kept)", "metric", epochs_ran),
    ("augmentation", "augmentation", "setting", augmentation),
    ("batch_size", "batch size", "setting", lambda r: str(setting(r, "batch_size", "n/a"))),
    ("fine_tune", "fine-tune layers, lr factor", "setting",
     lambda r: f"{setting(r, 'fine_tune_layers', 'n/a')}, {setting(r, 'fine_tune_lr_factor', 'n/a')}"),
    ("seed", "seed", "setting", lambda r: str(setting(r, "seed", "n/a"))),
    ("data_path", "data (path)", "data", lambda r: r.report.data.data_dir or _na(r, "data")),
    ("data_digest", "data (content digest; records per split)", "data", data_digest),
    ("classes", "classes", "data", classes),
    ("test_accuracy", "test accuracy (Evaluator)", "metric", test_accuracy),
    ("top_k_accuracy", f"top-{ev.TOP_K} accuracy", "metric", top_k),
    ("validation_accuracy", "validation accuracy", "metric", validation_accuracy),
]
TAIL_ROWS = [
    ("training_time", "training time", "metric", training_time), ("model_size", "model size", "metric", model_size),
    ("verdict", "gate", "metric", verdict),
]


def recall_classes(runs: List[Run]) -> List[str]:
    """Every class up to PER_CLASS_ROWS_MAX; beyond, the 10 with the lowest recall in any run."""
    names: List[str] = []
    for run in runs:
        names += [n for n in run.class_names if n not in names]
    if len(names) <= PER_CLASS_ROWS_MAX:
        return names

    def lowest(name: str) -> float:
        values = [r.report.evaluation.per_class.get(name, {}).get(ev.RECALL) for r in runs]
        return min([v for v in values if finite(v)] or [1.0])

    return sorted(names, key=lowest)[:10]


def build_table(runs: List[Run]) -> List[Row]:
    specs = list(ROWS)
    specs += [(f"recall:{name}", f"recall: {name}", "metric", lambda r, n=name: recall(r, n))
              for name in recall_classes(runs)]
    specs += TAIL_ROWS
    rows = []
    for key, label, kind, cell in specs:
        row = Row(key, label, kind, [cell(run) for run in runs])
        row.differs = kind in ("setting", "data") and len(set(row.values)) > 1
        rows.append(row)
    return rows


def differing(rows: List[Row]) -> List[str]:
    return [row.key for row in rows if row.differs]
