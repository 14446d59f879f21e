"""The comparison's page (index.html, figures embedded as the report's are) and compare.json."""

from __future__ import annotations

from dataclasses import asdict
from typing import Dict

from report import html as report_html
from report.compare import figures as compare_figures
from report.compare.grade import Disagreements
from report.compare.pairs import ALPHA, TEST_NAME
from report.compare.table import setting, differing, test_accuracy
from report.markup import e, img, table

SCHEMA = "snout.compare/1"
CURVES_FILE = "curves.png"
GRID_SHOWN = 36  # disagreement thumbnails per group of runs
SETTING_KEYS = ("backbone", "weights", "weights_description", "image_size", "head", "tuned", "epochs",
                "fine_tune_epochs", "fine_tune_layers", "fine_tune_lr_factor", "augment_strength", "batch_size",
                "seed", "hub_handle")


def grid_file(index: int) -> str:
    return f"disagreements-{index + 1}.png"


def is_figure_file(name: str) -> bool:
    return name == CURVES_FILE or (name.startswith("disagreements-") and name.endswith(".png"))


def build_figures(comparison) -> Dict[str, bytes]:
    out = {}
    histories = [(run.name, run.report.history) for run in comparison.runs if run.report.history]
    if histories:
        out[CURVES_FILE] = compare_figures.overlaid_curves(histories)
    by_label = {run.label: run for run in comparison.runs}
    for index, group in enumerate(comparison.disagreements):
        if group.indices:
            shown = group.indices[:GRID_SHOWN]
            answers = [(label, [int(comparison.outcomes[label].predicted[i]) for i in shown]) for label in group.labels]
            out[grid_file(index)] = compare_figures.disagreement_grid(
                [group.test.images[i] for i in shown], [group.test.labels[i] for i in shown], answers,
                by_label[group.labels[0]].class_names, title=_grid_title(group, len(shown)))
    return out


def _grid_title(group: Disagreements, shown: int) -> str:
    title = (f"{', '.join(group.labels)} answer {len(group.indices)} of {len(group.test.keys)} "
             f"{group.test.split} photos differently")
    return title + (f" (first {shown} shown)" if shown < len(group.indices) else "")


# ---------------------------------------------------------------- compare.json

def _run_json(run, outcome) -> dict:
    r = run.report
    trained = run.provenance.get("training") or {}
    return {
        "label": run.label, "name": run.name, "source": run.source, "note": run.note,
        "metadata_path": r.metadata_path or None, "trainer_execution_id": run.trainer_execution_id,
        "model_dir": run.model_dir, "model_run_dir": r.model_run_dir, "evaluation_dir": r.evaluation_dir,
        "examples_uri": run.examples_uri,
        "settings": {k: setting(run, k) for k in SETTING_KEYS if setting(run, k) is not None},
        "data": {"path": r.data.data_dir, "digest": run.data_digest, "splits": run.split_digests},
        "class_names": run.class_names,
        "metrics": {"split": r.split, "accuracy": r.evaluation.accuracy, "top_5_accuracy": r.evaluation.top_k_accuracy,
                    "example_count": r.evaluation.example_count, "validation": r.validation,
                    "per_class": r.evaluation.per_class, "source": "Evaluator (TFMA), whole split"},
        "paired_grading": None if outcome is None else {
            "split": outcome.test.split, "photos": len(outcome.test.keys), "total": outcome.test.total,
            "accuracy": outcome.accuracy, "source": outcome.test.source},
        "history": r.history, "phase2_kept": r.history_notes.get("phase2_kept"),
        "training_seconds": run.training_seconds, "training_seconds_source": run.training_seconds_source,
        "model_bytes": run.model_bytes, "params": trained.get("params"),
        "trainable_params": trained.get("trainable_params"),
        "blessed": r.blessing.blessed, "pushed_version": r.blessing.pushed_version if r.blessing.pushed else None,
        "missing": run.missing, "problems": r.problems,
    }


def _disagreement_json(group: Disagreements, comparison) -> dict:
    names = next(run.class_names for run in comparison.runs if run.label == group.labels[0])
    name = lambda i: names[i] if 0 <= i < len(names) else str(i)  # noqa: E731
    return {"runs": group.labels, "split": group.test.split, "photos": len(group.test.keys),
            "count": len(group.indices),
            "shown": min(GRID_SHOWN, len(group.indices)),
            "examples": [{"key": group.test.keys[i], "label": name(group.test.labels[i]),
                          "answers": {lab: name(int(comparison.outcomes[lab].predicted[i])) for lab in group.labels}}
                         for i in group.indices]}


def summary(comparison, figures: Dict[str, bytes]) -> dict:
    return {
        "schema": SCHEMA, "generated_at": comparison.generated_at, "test": TEST_NAME, "alpha": ALPHA,
        "max_test_images": comparison.max_test_images,
        "runs": [_run_json(run, comparison.outcomes.get(run.label)) for run in comparison.runs],
        "table": [asdict(row) for row in comparison.rows], "differing": differing(comparison.rows),
        "pairs": [asdict(p) for p in comparison.pairs],
        "disagreements": [_disagreement_json(g, comparison) for g in comparison.disagreements],
        "figures": sorted(figures),
    }


json_default = report_html._json_default  # numpy values as the report's embedded JSON writes them


# ---------------------------------------------------------------- index.html

CSS = report_html.CSS + """
tr.differs td, tr.differs th{background:#fff8c5} th.rowlabel{background:#f6f8fa;font-weight:600}
.kind{color:#59636e;font-size:11px;font-weight:normal} li.pair{margin:6px 0}
"""


def _runs_table(comparison) -> str:
    header = [""] + [run.name for run in comparison.runs]
    rows = [[f'<th class="rowlabel">{e(row.label)}' + (' <span class="kind">differs</span>' if row.differs else "")
             + "</th>"] + [f"<td>{e(v)}</td>" for v in row.values] for row in comparison.rows]
    attrs = [f' data-key="{e(row.key)}"' + (' class="differs"' if row.differs else "") for row in comparison.rows]
    return table(header, rows, "small runs", raw=True, row_attrs=attrs)


def _pairs(comparison) -> str:
    if not comparison.pairs:
        return "<p>No pairs.</p>"
    items = []
    for p in comparison.pairs:
        cls = "ok" if p.significant else ("muted" if not p.tested else "")
        items.append(f'<li class="pair {cls}" data-pair="{e(p.a)}-{e(p.b)}" data-tested="{e(p.tested)}">'
                     f"{e(p.sentence)}</li>")
    tested = [p for p in comparison.pairs if p.tested]
    counts = table(["pair", "photos", "only first right", "only second right", "both right", "both wrong",
                    "p (two-sided)", "p (Holm)"],
                   [[f"{p.a} vs {p.b}", str(p.examples), str(p.a_only), str(p.b_only), str(p.both_right),
                     str(p.both_wrong), f"{p.p_value:.4f}", f"{p.p_adjusted:.4f}"] for p in tested], "small")
    return (f"<ul>{''.join(items)}</ul>" + (counts if tested else "")
            + f'<p class="muted">{e(TEST_NAME)}, at {ALPHA}: each model is run on the {e(_split(comparison))} '
              "photos (never validation or train); only photos exactly one of two runs gets right count. "
              "Pairs on different data or class lists are not tested.</p>")


def _split(comparison) -> str:
    splits = sorted({o.test.split for o in comparison.outcomes.values()})
    return "/".join(splits) or "test"


def _disagreement_sections(comparison, figures: Dict[str, bytes]) -> str:
    if not comparison.disagreements:
        return "<p>No two runs were graded on the same photos.</p>"
    parts = []
    for index, group in enumerate(comparison.disagreements):
        if not group.indices:
            parts.append(f"<p>{e(', '.join(group.labels))} give the same answer on all {len(group.test.keys)} "
                         f"{e(group.test.split)} photos.</p>")
            continue
        parts.append(img(figures, grid_file(index), _grid_title(group, min(GRID_SHOWN, len(group.indices)))
                         + ": each run's answer, green right, red wrong"))
    return "".join(parts)


def _missing(comparison) -> str:
    lines = [f"<li>{e(run.label)}: {e(what)}: {e(why)}</li>" for run in comparison.runs
             for what, why in {**run.missing, **run.report.problems}.items()]
    return f"<ul>{''.join(lines)}</ul>" if lines else "<p>Nothing missing.</p>"


def render(comparison, figures: Dict[str, bytes]) -> str:
    runs = comparison.runs
    legend = "".join(f"<li><strong>{e(run.name)}</strong>: <code>{e(run.source)}</code>, {e(run.note)}; "
                     f"test accuracy <strong>{e(test_accuracy(run))}</strong></li>" for run in runs)
    verdicts = "".join(f"<li>{e(p.sentence)}</li>" for p in comparison.pairs if p.tested)
    sections = [
        ("runs", "Runs side by side", '<p class="muted">Highlighted: settings and data that differ.</p>'
         + _runs_table(comparison)),
        ("curves", "Training curves, overlaid",
         img(figures, CURVES_FILE, "loss and accuracy per epoch, every run; train solid, validation dashed")
         + '<p class="muted">Phase 1 of a pretrained backbone trains the head on base outputs computed once '
           "(many cheap epochs); a backbone trained from scratch streams images.</p>"),
        ("pairs", "Is the difference real?", _pairs(comparison)),
        ("disagreements", "Photos the runs disagree on", _disagreement_sections(comparison, figures)),
        ("missing", "Not available", _missing(comparison)),
    ]
    body = "".join(f'<section id="{sid}"><h2>{e(title)}</h2>{html}</section>' for sid, title, html in sections)
    nav = "".join(f'<a href="#{sid}">{e(title)}</a>' for sid, title, _ in sections)
    title = " vs ".join(run.name for run in runs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>snout compare - {e(title)}</title>
<style>{CSS}</style></head>
<body>
<h1>snout compare: {e(title)}</h1>
<p class="muted">Generated {e(comparison.generated_at)}; the numbers are also in
<a href="compare.json">compare.json</a>.</p>
<ul>{legend}</ul>
<ul class="verdict-list" id="verdicts">{verdicts}</ul>
<nav>{nav}</nav>
{body}
</body></html>
"""
