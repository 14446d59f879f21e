"""Renders ReportData and its figures into one self-contained HTML page (PNGs as data URIs).

Every section is a <section id=...>; key numbers carry data-* attributes and are also
embedded as JSON in <script type="application/json" id="report-data"> for machines.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Dict, List, Optional

import numpy as np

from report import figures as fig
from report.collect import ReportData, finite

MISCLASSIFIED_MAX = 24
SAMPLE_GRID = 18
TOP_K = 10
TOP_K_IMAGES = 6

# Figure file names, in page order.
FIGURE_FILES = ["curves.png", "confusion.png", "misclassified.png", "predictions.png", "topk.png",
                "data_counts.png"]

SECTIONS = [("blessing", "Blessing decision"), ("curves", "Training curves"),
            ("evaluation", "Evaluation: confusion matrix and per-class metrics"),
            ("misclassified", "Misclassified eval images"), ("topk", "Top-k predictions"),
            ("tuning", "Tuning trials"), ("data", "Data")]


def e(value) -> str:
    return html.escape(str(value), quote=True)


def num(value, digits: int = 4) -> str:
    if not finite(value):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def pct(value) -> str:
    return f"{value:.1%}" if finite(value) else "n/a"


# ---------------------------------------------------------------- figures

def selections(report: ReportData):
    """Indices into report.predictions for the misclassified grid, the sample grid and top-k."""
    p = report.predictions
    if p is None or p.probabilities is None or not len(p.labels):
        return [], [], []
    confidence = p.probabilities.max(axis=1)
    wrong = sorted(p.wrong, key=lambda i: -confidence[i])
    right = [i for i in range(len(p.labels)) if i not in set(p.wrong)]
    sample = list(range(min(SAMPLE_GRID, len(p.labels))))
    half = TOP_K_IMAGES // 2
    chosen = wrong[:half]
    chosen += right[: TOP_K_IMAGES - len(chosen)]
    chosen += [i for i in wrong[half:] if i not in chosen][: TOP_K_IMAGES - len(chosen)]
    return wrong[:MISCLASSIFIED_MAX], sample, chosen


def build_figures(report: ReportData) -> Dict[str, bytes]:
    """PNG bytes by file name, for every figure the data allows; failures go to report.problems."""
    out: Dict[str, bytes] = {}
    names = report.class_names

    def attempt(name, section, fn):
        try:
            out[name] = fn()
        except Exception as ex:  # noqa: BLE001
            report.problems.setdefault(section, f"figure {name}: {type(ex).__name__}: {ex}")

    if report.history:
        attempt("curves.png", "curves", lambda: fig.curves(report.history))
    if report.confusion is not None:
        attempt("confusion.png", "evaluation", lambda: fig.confusion(report.confusion, names))
    if report.data.counts:
        attempt("data_counts.png", "data", lambda: fig.data_counts(report.data.counts, names))
    p = report.predictions
    wrong, sample, chosen = selections(report)
    if p is not None:
        probs = p.probabilities
        predicted = p.predicted
        conf = probs.max(axis=1) if len(probs) else np.zeros(0)

        def grid(indices, title):
            return fig.prediction_grid([p.images[i] for i in indices], [p.labels[i] for i in indices],
                                       [int(predicted[i]) for i in indices], [float(conf[i]) for i in indices],
                                       names, title=title)

        if wrong:
            attempt("misclassified.png", "misclassified",
                    lambda: grid(wrong, f"{len(wrong)} most confident mistakes of {len(p.wrong)}"))
        if sample:
            attempt("predictions.png", "misclassified",
                    lambda: grid(sample, f"first {len(sample)} eval images: green right, red wrong"))
        if chosen:
            attempt("topk.png", "topk", lambda: fig.top_k([p.images[i] for i in chosen], probs[chosen],
                                                          [p.labels[i] for i in chosen], names, k=TOP_K))
    return out


# ---------------------------------------------------------------- page

def _img(figures: Dict[str, bytes], name: str, alt: str) -> str:
    if name not in figures:
        return ""
    data = base64.b64encode(figures[name]).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{e(alt)}" data-file="{e(name)}">'
            f'<figcaption>{e(alt)} (<a href="{e(name)}">{e(name)}</a>)</figcaption></figure>')


def _problem(report: ReportData, section: str) -> str:
    if section not in report.problems:
        return ""
    return f'<p class="problem">Not available: {e(report.problems[section])}</p>'


def _table(header: List[str], rows: List[List[str]], cls: str = "", raw: bool = False) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(c if raw else f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_PASS = {True: "passed", False: "FAILED", None: "n/a"}


def _blessing(report: ReportData) -> str:
    b = report.blessing
    verdict = {True: "yes", False: "NO", None: "unknown"}[b.blessed]
    lines = [f'<p class="verdict {"ok" if b.blessed else "bad"}">Blessed: '
             f'<strong id="blessed" data-blessed="{e(b.blessed)}">{verdict}</strong></p>', "<ul>"]
    accuracy_ok = (b.accuracy >= b.min_accuracy) if finite(b.accuracy) and finite(b.min_accuracy) else None
    lines.append(f'<li id="gate-accuracy">eval accuracy <span data-key="accuracy">{num(b.accuracy)}</span> '
                 f'vs min_accuracy <span data-key="min_accuracy">{num(b.min_accuracy)}</span>: '
                 f'{_PASS[accuracy_ok]}</li>')
    if finite(b.baseline_accuracy):
        change_ok = None
        if finite(b.accuracy_change) and finite(b.max_accuracy_drop):
            change_ok = b.accuracy_change >= -b.max_accuracy_drop - 1e-12
        verdict = _PASS[change_ok]
        lines.append(f'<li id="gate-change">change vs baseline (last blessed model, accuracy '
                     f'{num(b.baseline_accuracy)}): <span data-key="accuracy_change">{num(b.accuracy_change)}'
                     f'</span>, max_accuracy_drop <span data-key="max_accuracy_drop">{num(b.max_accuracy_drop)}'
                     f'</span>: {verdict}</li>')
        lines.append(f"<li>baseline model: <code>{e(b.baseline_model or 'n/a')}</code></li>")
    else:
        lines.append(f'<li id="gate-change">no baseline (no model was blessed before), so the change threshold '
                     f'(max_accuracy_drop <span data-key="max_accuracy_drop">{num(b.max_accuracy_drop)}</span>) '
                     f'did not apply</li>')
    lines.append(f"<li>candidate model: <code>{e(b.candidate_model or report.model_dir or 'n/a')}</code></li>")
    for failure in b.failures:
        lines.append(f'<li class="bad">failed: {e(failure)}</li>')
    if b.pushed and b.already_served:
        lines.append(f'<li id="pushed">pushed: already served as version <strong>{e(b.pushed_version)}</strong> '
                     f'at <code>{e(b.pushed_dir)}</code> (not copied again)</li>')
    elif b.pushed:
        lines.append(f'<li id="pushed">pushed: version <strong>{e(b.pushed_version)}</strong> '
                     f'to <code>{e(b.pushed_dir)}</code></li>')
    else:
        lines.append('<li id="pushed">pushed: no - the served version is unchanged</li>')
    lines.append("</ul>")
    return "".join(lines)


def _curves(report: ReportData, figures) -> str:
    if not report.history:
        return ""
    rows = []
    for phase, values in report.history.items():
        epochs = max((len(v) for v in values.values()), default=0)
        last = lambda k: num(values[k][-1]) if values.get(k) else "n/a"  # noqa: E731
        rows.append([fig.PHASE_TITLES.get(phase, phase), str(epochs), last("loss"), last("accuracy"),
                     last("val_loss"), last("val_accuracy")])
    missing = "" if "phase2_fine_tune" in report.history else \
        "<p>No phase 2 in this run (fine-tune epochs 0, or no pretrained base to fine-tune).</p>"
    kept = report.history_notes.get("phase2_kept")
    if kept is not None:
        missing += (f'<p id="phase2-kept">Phase 2 kept: <strong>{"yes" if kept else "no"}</strong>'
                    + ("" if kept else " - its best val accuracy did not beat phase 1's, so the exported model "
                       "has the phase-1 weights") + ".</p>")
    others = {k: v for k, v in report.history_notes.items() if k != "phase2_kept"}
    if others:
        missing += "<p class='muted'>" + ", ".join(f"{e(k)}: {e(v)}" for k, v in others.items()) + "</p>"
    return (_img(figures, "curves.png", "loss and accuracy per epoch, train and validation")
            + _table(["phase", "epochs", "final loss", "final accuracy", "final val_loss", "final val_accuracy"],
                     rows, "small") + missing
            + f"<p class='muted'>From <code>{e(report.model_run_dir)}/history.json</code>; TensorBoard logs: "
              f"<code>tensorboard --logdir {e(report.model_run_dir)}</code></p>")


def _evaluation(report: ReportData, figures) -> str:
    names = report.class_names
    parts = [f'<p>Evaluator: accuracy <strong data-key="eval_accuracy">{num(report.accuracy)}</strong> on '
             f'<strong data-key="example_count">{e(report.example_count)}</strong> eval examples.</p>']
    if report.confusion is not None:
        total = int(report.confusion.sum())
        unpredicted = int(report.unpredicted.sum()) if report.unpredicted is not None else 0
        parts.append(f'<p>Confusion matrix total: <strong data-key="confusion_total">{total}</strong>'
                     + (f" (+{unpredicted} with no predicted class)" if unpredicted else "") + "</p>")
        parts.append(_img(figures, "confusion.png", "confusion matrix from the Evaluator (TFMA)"))
        n = report.confusion.shape[0]
        if n <= fig.ANNOTATE_MAX_CLASSES:
            header = ["true \\ predicted"] + [names[j] if j < len(names) else str(j) for j in range(n)]
            rows = [[f"<th>{e(names[i] if i < len(names) else i)}</th>"]
                    + [f'<td class="num" data-cm="{i},{j}">{int(report.confusion[i, j])}</td>' for j in range(n)]
                    for i in range(n)]
            parts.append(_table(header, rows, "small cm", raw=True))
        confusions = fig.top_confusions(report.confusion, names)
        if confusions:
            parts.append("<h3>Top confusions</h3>" + _table(
                ["true class", "predicted as", "count", "share of true class"],
                [[t, p, str(c), pct(s)] for t, p, c, s in confusions], "small"))
        else:
            parts.append("<p>No confusions: every eval example was classified correctly.</p>")
    rows = []
    for i, name in enumerate(names):
        values = report.per_class.get(name, {})
        rows.append([f"<td>{e(name)}</td>",
                     f'<td class="num" data-class="{e(name)}" data-metric="precision">'
                     f'{num(values.get("precision"))}</td>',
                     f'<td class="num" data-class="{e(name)}" data-metric="recall">{num(values.get("recall"))}</td>',
                     f'<td class="num" data-class="{e(name)}" data-metric="support">'
                     f'{e(values.get("support", "n/a"))}</td>'])
    parts.append("<h3>Per-class precision and recall</h3>"
                 "<p class='muted'>One-vs-rest, from the Evaluator's binarized metrics; "
                 "support = eval examples of the class (label slice).</p>"
                 + f'<div class="scroll">{_table(["class", "precision", "recall", "support"], rows, "small", raw=True)}'
                 + "</div>")
    return "".join(parts)


def _misclassified(report: ReportData, figures) -> str:
    p = report.predictions
    if p is None:
        return ""
    scanned = len(p.labels)
    n_wrong = len(p.wrong)
    intro = (f'<p>The evaluated model (<code>{e(p.model_dir)}</code>, signature serving_default on the raw '
             f'image bytes) run on <strong data-key="scanned">{scanned}</strong> eval images '
             f'(limit {p.limit}) from <code>{e(p.examples_source)}</code>: '
             f'<strong data-key="misclassified">{n_wrong}</strong> misclassified.</p>')
    if n_wrong:
        body = _img(figures, "misclassified.png", "misclassified eval images: true and predicted label, confidence")
    else:
        body = "<p>No misclassified images among them.</p>"
    return intro + body + _img(figures, "predictions.png", "sample of eval predictions, green right, red wrong")


def _topk(report: ReportData, figures) -> str:
    if report.predictions is None:
        return ""
    k = min(TOP_K, len(report.class_names) or TOP_K)
    return (f"<p>The {k} most probable classes for a few eval images (mistakes first); the true class is green, "
            f"a wrong top prediction red.</p>" + _img(figures, "topk.png", f"top-{k} probabilities per image"))


def _tuning(report: ReportData) -> str:
    t = report.tuning
    if t is None:
        return '<p id="no-tuning">No tuning in this run (run with <code>--tune</code> to search the head).</p>'
    parts = []
    if t.best_hyperparameters:
        parts.append("<p>Best hyperparameters (used by the Trainer): "
                     + ", ".join(f"<code>{e(k)}={e(v)}</code>" for k, v in t.best_hyperparameters.items()) + "</p>")
    if not t.trials:
        return "".join(parts) + "<p>The Tuner ran but no trial records were found.</p>"
    keys = sorted({k for trial in t.trials for k in trial.get("values", {})})
    metric_keys = sorted({k for trial in t.trials for k in trial.get("metrics", {})})
    ordered = sorted(t.trials, key=lambda r: -(r["score"] if finite(r.get("score")) else -1e9))
    rows = [[r["trial_id"], str(r.get("status", "")), num(r.get("score"))]
            + [num(r.get("values", {}).get(k)) if isinstance(r.get("values", {}).get(k), float)
               else str(r.get("values", {}).get(k, "")) for k in keys]
            + [num(r.get("metrics", {}).get(k)) for k in metric_keys] for r in ordered]
    parts.append(f'<p><span data-key="trials">{len(t.trials)}</span> trials, best score first '
                 f'(score = val_accuracy). Source: <code>{e(t.source)}</code></p>')
    parts.append(_table(["trial", "status", "score"] + keys + metric_keys, rows, "small tuning"))
    return "".join(parts)


def _data(report: ReportData, figures) -> str:
    d = report.data
    parts = [f"<p>Dataset: <code>{e(d.data_dir or 'n/a')}</code>"
             + (f" - {e(d.description)}" if d.description else "")
             + (" <em>(generated sample set)</em>" if d.generated else "") + "</p>"]
    if d.counts:
        splits = [s for s in ("train", "eval", "test") if s in d.counts] + \
                 [s for s in d.counts if s not in ("train", "eval", "test")]
        classes = list(report.class_names) or sorted({c for per in d.counts.values() for c in per})
        rows = [[c] + [str(d.counts[s].get(c, 0)) for s in splits] + [str(sum(d.counts[s].get(c, 0) for s in splits))]
                for c in classes]
        totals = [sum(d.counts[s].values()) for s in splits]
        rows.append(["total"] + [str(t) for t in totals] + [str(sum(totals))])
        parts.append(_img(figures, "data_counts.png", "images per class and split"))
        parts.append('<div class="scroll">' + _table(["class"] + splits + ["all"], rows, "small counts") + "</div>")
    skipped = {r: n for r, n in d.skipped.items() if n}
    if skipped:
        parts.append("<h3>Skipped at ingest</h3>" + _table(["reason", "files"],
                                                           [[r, str(n)] for r, n in skipped.items()], "small skips"))
    else:
        parts.append('<p id="no-skips">Skipped files: none'
                     + (" (generated data)" if d.generated else "") + ".</p>")
    for w in d.warnings:
        parts.append(f'<p class="problem">warning: {e(w)}</p>')
    return "".join(parts)


CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;
color:#1f2328}
h1{margin-bottom:4px} h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
nav a{margin-right:12px} code{background:#f6f8fa;padding:1px 4px;border-radius:4px;font-size:90%}
table{border-collapse:collapse;margin:8px 0} th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} thead th{background:#f6f8fa;position:sticky;top:0}
table.small{font-size:13px} .scroll{max-height:480px;overflow:auto;display:inline-block}
figure{margin:8px 0} figure img{max-width:100%;border:1px solid #d0d7de}
figcaption{font-size:12px;color:#59636e} .muted{color:#59636e;font-size:13px}
.verdict{font-size:20px} .ok{color:#1a7f37} .bad{color:#cf222e} .problem{color:#9a6700}
.summary span{display:inline-block;margin-right:24px}
"""


def render(report: ReportData, figures: Dict[str, bytes]) -> str:
    b = report.blessing
    summary = {
        "pipeline_name": report.pipeline_name, "class_names": report.class_names,
        "example_count": report.example_count, "accuracy": report.accuracy,
        "confusion_total": int(report.confusion.sum()) if report.confusion is not None else None,
        "confusion": report.confusion.tolist() if report.confusion is not None and
        report.confusion.shape[0] <= 200 else None,
        "per_class": report.per_class, "blessed": b.blessed, "min_accuracy": b.min_accuracy,
        "max_accuracy_drop": b.max_accuracy_drop, "accuracy_change": b.accuracy_change,
        "pushed": b.pushed, "pushed_version": b.pushed_version,
        "scanned": len(report.predictions.labels) if report.predictions else None,
        "misclassified": len(report.predictions.wrong) if report.predictions else None,
        "tuning_trials": len(report.tuning.trials) if report.tuning else None,
        "data_counts": report.data.counts, "skipped": report.data.skipped, "problems": report.problems,
        "figures": sorted(figures),
    }
    body = {
        "blessing": _blessing(report), "curves": _curves(report, figures),
        "evaluation": _evaluation(report, figures), "misclassified": _misclassified(report, figures),
        "topk": _topk(report, figures), "tuning": _tuning(report), "data": _data(report, figures),
    }
    verdict = {True: "blessed", False: "NOT blessed", None: "blessing unknown"}[b.blessed]
    sections = "".join(f'<section id="{sid}"><h2>{e(title)}</h2>{_problem(report, sid)}{body[sid]}</section>'
                       for sid, title in SECTIONS)
    nav = "".join(f'<a href="#{sid}">{e(title.split(":")[0])}</a>' for sid, title in SECTIONS)
    data_json = json.dumps(summary, default=_json_default).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>snout report - {e(report.pipeline_name)}</title>
<style>{CSS}</style></head>
<body>
<h1>snout report: {e(report.pipeline_name)}</h1>
<p class="muted">Generated {e(report.generated_at)} from <code>{e(report.metadata_path)}</code>;
evaluation <code>{e(report.evaluation_dir)}</code></p>
<p class="summary"><span>{len(report.class_names)} classes</span>
<span>eval accuracy <strong>{num(report.accuracy)}</strong> on {e(report.example_count)} examples</span>
<span class="{'ok' if b.blessed else 'bad'}"><strong>{verdict}</strong></span>
<span>{'pushed version ' + e(b.pushed_version) if b.pushed else 'not pushed'}</span></p>
<nav>{nav}</nav>
{sections}
<script type="application/json" id="report-data">{data_json}</script>
</body></html>
"""


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def read_embedded_data(page: str) -> Optional[dict]:
    """The JSON summary embedded in a rendered page (for tests and scripts)."""
    start = page.find('<script type="application/json" id="report-data">')
    if start < 0:
        return None
    start = page.index(">", start) + 1
    end = page.index("</script>", start)
    return json.loads(page[start:end].replace("<\\/", "</"))
