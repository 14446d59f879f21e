"""Renders ReportData and its figures into one self-contained HTML page (PNGs as data URIs).

Every section is a <section id=...> (report/sections.py); key numbers carry data-* attributes
and are also embedded as JSON in <script type="application/json" id="report-data"> for machines.
"""

from __future__ import annotations

import json
from typing import Dict, Optional

import numpy as np

from report import calibration, gradcam
from report import figures as fig
from report import lite
from report import reuse, sections
from report.audit import audit_section
from report.collect import ReportData
from report.markup import e

MISCLASSIFIED_MAX = 24
SAMPLE_GRID = 18
TOP_K_IMAGES = 6

# Figure file names, in page order.
FIGURE_FILES = ["curves.png", "confusion.png", *calibration.FILES, "misclassified.png", gradcam.FILE,
                "predictions.png", "topk.png", lite.FIGURE, "data_counts.png"]

SECTIONS = [("blessing", "Blessing decision"), ("curves", "Training curves"),
            ("evaluation", "Evaluation: confusion matrix and per-class metrics"),
            ("calibration", "Calibration: reliability and accuracy against coverage"),
            ("misclassified", "Misclassified images"), ("gradcam", "Why it erred: Grad-CAM on the mistakes"),
            ("topk", "Top-k predictions"), ("lite", "Edge export: TFLite files vs the SavedModel"),
            ("tuning", "Tuning trials"), ("data", "Data"),
            ("audit", "Data audit: label errors, near-duplicates, leaks, outliers")]


# ---------------------------------------------------------------- figures

def selections(report: ReportData):
    """Indices into report.predictions for the misclassified grid, the sample grid and top-k."""
    p = report.predictions
    if p is None or p.probabilities is None or not len(p.labels):
        return [], [], []
    wrong = p.mistakes_by_confidence()
    right = [i for i in range(len(p.labels)) if i not in set(p.wrong)]
    sample = list(range(min(SAMPLE_GRID, len(p.labels))))
    half = TOP_K_IMAGES // 2
    chosen = wrong[:half]
    chosen += right[: TOP_K_IMAGES - len(chosen)]
    chosen += [i for i in wrong[half:] if i not in chosen][: TOP_K_IMAGES - len(chosen)]
    return wrong[:MISCLASSIFIED_MAX], sample, chosen


def build_figures(report: ReportData, cache_dir: Optional[str] = None) -> Dict[str, bytes]:
    """PNG bytes by file name, for every figure the data allows; failures go to report.problems.
    With `cache_dir`, a figure drawn before from the same data is reused (report/reuse.py)."""
    out: Dict[str, bytes] = {}
    names = report.class_names

    def attempt(name, section, fn, *inputs):
        try:
            out[name] = reuse.figure(cache_dir, name, fn, *inputs)
        except Exception as ex:  # noqa: BLE001
            report.problems.setdefault(section, f"figure {name}: {type(ex).__name__}: {ex}")

    if report.history:
        attempt("curves.png", "curves", lambda: fig.curves(report.history), report.history)
    if report.evaluation.confusion is not None:
        attempt("confusion.png", "evaluation", lambda: fig.confusion(report.evaluation.confusion, names),
                report.evaluation.confusion, names)
    if report.lite is not None and not report.lite.parity.get("error"):
        attempt(lite.FIGURE, "lite", lambda: lite.figure(report.lite), report.lite)
    if report.data.counts:
        attempt("data_counts.png", "data", lambda: fig.data_counts(report.data.counts, names),
                report.data.counts, names)
    for name, draw in calibration.figures(report.blessing.calibration).items():
        attempt(name, "calibration", draw, report.blessing.calibration)
    p = report.predictions
    wrong, sample, chosen = selections(report)
    if p is not None:
        probs = p.probabilities
        predicted = p.predicted
        conf = probs.max(axis=1) if len(probs) else np.zeros(0)

        def grid_inputs(indices, title):
            return ([p.images[i] for i in indices], [p.labels[i] for i in indices],
                    [int(predicted[i]) for i in indices], [float(conf[i]) for i in indices], names, title)

        def grid(name, indices, title):
            inputs = grid_inputs(indices, title)
            attempt(name, "misclassified", lambda: fig.prediction_grid(*inputs[:-1], title=title), *inputs)

        if wrong:
            grid("misclassified.png", wrong, f"{len(wrong)} most confident mistakes of {len(p.wrong)}")
            mapped = gradcam.chosen(p, wrong)
            if mapped:
                attempt(gradcam.FILE, "gradcam", lambda: gradcam.figure(p, wrong, names), grid_inputs(mapped, ""),
                        [p.heatmaps[i] for i in mapped])
        if sample:
            grid("predictions.png", sample, f"first {len(sample)} {p.split} images: green right, red wrong")
        if chosen:
            top = ([p.images[i] for i in chosen], probs[chosen], [p.labels[i] for i in chosen], names, sections.TOP_K)
            attempt("topk.png", "topk", lambda: fig.top_k(*top[:-1], k=top[-1]), *top)
    return out


# ---------------------------------------------------------------- page

def _problem(report: ReportData, section: str) -> str:
    if section not in report.problems:
        return ""
    return f'<p class="problem">Not available: {e(report.problems[section])}</p>'


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


def summary(report: ReportData, figures: Dict[str, bytes]) -> dict:
    """The page's key numbers, embedded as JSON."""
    b, m = report.blessing, report.evaluation
    confusion = m.confusion
    return {
        "pipeline_name": report.pipeline_name, "class_names": report.class_names, "split": report.split,
        "example_count": m.example_count, "accuracy": m.accuracy, "top_k_accuracy": m.top_k_accuracy,
        "validation": report.validation,
        "confusion_total": int(confusion.sum()) if confusion is not None else None,
        "confusion": confusion.tolist() if confusion is not None and confusion.shape[0] <= 200 else None,
        "per_class": m.per_class, "blessed": b.blessed, "min_accuracy": b.min_accuracy,
        "max_accuracy_drop": b.max_accuracy_drop,
        "checks": [{"name": c.name, "applied": c.applied, "passed": c.passed, "sentence": c.sentence,
                    "numbers": c.numbers} for c in b.checks],
        "pushed": b.pushed, "pushed_version": b.pushed_version,
        "calibration": {k: b.calibration.get(k) for k in ("temperature", "ece_before", "ece_after")},
        "heatmaps": len(report.predictions.heatmaps) if report.predictions else None,
        "scanned": len(report.predictions.labels) if report.predictions else None,
        "misclassified": len(report.predictions.wrong) if report.predictions else None,
        "tuning_trials": len(report.tuning.trials) if report.tuning else None,
        "data_counts": report.data.counts, "skipped": report.data.skipped, "problems": report.problems,
        "lite": {"variants": report.lite.parity.get("variants"), "pushed_variants": report.lite.pushed_variants,
                 "pushed_version": report.lite.pushed_version} if report.lite else None,
        "figures": sorted(figures),
    }


def render(report: ReportData, figures: Dict[str, bytes]) -> str:
    b = report.blessing
    body = {
        "blessing": sections.blessing(report), "curves": sections.curves(report, figures),
        "evaluation": sections.evaluation(report, figures), "misclassified": sections.misclassified(report, figures),
        "calibration": calibration.section(report.blessing.calibration, figures, report.split),
        "gradcam": gradcam.section(report.predictions, figures),
        "topk": sections.topk(report, figures), "lite": lite.section(report.lite, figures),
        "tuning": sections.tuning(report), "data": sections.data(report, figures),
        "audit": audit_section(report.audit_dir) or "<p class='muted'>No data audit in this run (--no-audit).</p>",
    }
    verdict = {True: "blessed", False: "NOT blessed", None: "blessing unknown"}[b.blessed]
    parts = "".join(f'<section id="{sid}"><h2>{e(title)}</h2>{_problem(report, sid)}{body[sid]}</section>'
                    for sid, title in SECTIONS)
    nav = "".join(f'<a href="#{sid}">{e(title.split(":")[0])}</a>' for sid, title in SECTIONS)
    data_json = json.dumps(summary(report, figures), default=_json_default).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>snout report - {e(report.pipeline_name)}</title>
<style>{CSS}</style></head>
<body>
<h1>snout report: {e(report.pipeline_name)}</h1>
<p class="muted">Generated {e(report.generated_at)} from <code>{e(report.metadata_path)}</code>;
evaluation <code>{e(report.evaluation_dir)}</code></p>
<p class="summary"><span>{len(report.class_names)} classes</span>
<span id="headline">{sections.headline(report)}</span>
<span class="{'ok' if b.blessed else 'bad'}"><strong>{verdict}</strong></span>
<span>{'pushed version ' + e(b.pushed_version) if b.pushed else 'not pushed'}</span></p>
<nav>{nav}</nav>
{parts}
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
