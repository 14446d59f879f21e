"""The page's sections, one function each: HTML for the blessing, curves, evaluation, images, tuning, data."""

from __future__ import annotations

from contract import evaluation as ev
from report import figures as fig
from report.collect import ReportData
from report.markup import e, img as _img, num, ordered_splits, pct, table as _table
from report.metrics import finite, worst_classes

TOP_K = 10
_STATUS = {(True, True): "passed", (True, False): "FAILED", (False, True): "skipped", (False, False): "skipped"}


def blessing(report: ReportData) -> str:
    b = report.blessing
    verdict = {True: "yes", False: "NO", None: "unknown"}[b.blessed]
    lines = [f'<p class="verdict {"ok" if b.blessed else "bad"}">Blessed: '
             f'<strong id="blessed" data-blessed="{e(b.blessed)}">{verdict}</strong></p>', "<ul>"]
    for check in b.checks:
        status = _STATUS[(check.applied, check.passed)]
        cls = "bad" if status == "FAILED" else "ok" if status == "passed" else "muted"
        lines.append(f'<li id="gate-{e(check.name)}" class="{cls}" data-status="{status}">'
                     f'<strong>{status}</strong>: {e(check.sentence)}</li>')
    if b.baseline.get("model_dir"):
        version = f" (served version {e(b.baseline['version'])})" if b.baseline.get("version") else ""
        lines.append(f"<li>baseline ({e(b.baseline.get('source', 'resolver'))}): "
                     f"<code>{e(b.baseline['model_dir'])}</code>{version}</li>")
    lines.append(f"<li>candidate model: <code>{e(b.candidate_model or report.model_dir or 'n/a')}</code></li>")
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


def _count(value) -> str:
    """An example count as an integer ("24", not TFMA's double "24.0"), or n/a."""
    return "n/a" if value is None else str(int(value))


def headline(report: ReportData) -> str:
    """The graded split's accuracy, with the validation split's beside it."""
    m, v = report.evaluation, report.validation
    parts = [f'{e(report.split)} accuracy <strong data-key="accuracy">{num(m.accuracy)}</strong> '
             f'on <span data-key="example_count">{e(m.example_count)}</span> examples']
    if finite(m.top_k_accuracy):
        parts.append(f'top-{ev.TOP_K} <span data-key="top_k_accuracy">{num(m.top_k_accuracy)}</span>')
    if v:
        parts.append(f'{e(v.get("split"))} accuracy <span data-key="validation_accuracy">{num(v.get(ev.ACCURACY))}'
                     f'</span> on {e(_count(v.get(ev.EXAMPLE_COUNT)))}'
                     + (f', top-{ev.TOP_K} {num(v.get(ev.TOP_K_ACCURACY))}' if ev.TOP_K_ACCURACY in v else ""))
    return "; ".join(parts)


def evaluation(report: ReportData, figures) -> str:
    names, m = report.class_names, report.evaluation
    parts = [f"<p>Evaluator (TFMA), graded on the {e(report.split)} split: {headline(report)}.</p>"]
    if m.confusion is not None:
        total = int(m.confusion.sum())
        unpredicted = int(m.unpredicted.sum()) if m.unpredicted is not None else 0
        parts.append(f'<p>Confusion matrix total: <strong data-key="confusion_total">{total}</strong>'
                     + (f" (+{unpredicted} with no predicted class)" if unpredicted else "") + "</p>")
        parts.append(_img(figures, "confusion.png", "confusion matrix from the Evaluator (TFMA)"))
        n = m.confusion.shape[0]
        if n <= fig.ANNOTATE_MAX_CLASSES:
            header = ["true \\ predicted"] + [names[j] if j < len(names) else str(j) for j in range(n)]
            rows = [[f"<th>{e(names[i] if i < len(names) else i)}</th>"]
                    + [f'<td class="num" data-cm="{i},{j}">{int(m.confusion[i, j])}</td>' for j in range(n)]
                    for i in range(n)]
            parts.append(_table(header, rows, "small cm", raw=True))
        confusions = fig.top_confusions(m.confusion, names)
        if confusions:
            parts.append("<h3>Top confusions</h3>" + _table(
                ["true class", "predicted as", "count", "share of true class"],
                [[t, p, str(c), pct(s)] for t, p, c, s in confusions], "small"))
        else:
            parts.append(f"<p>No confusions: every {e(report.split)} example was classified correctly.</p>")
    worst = worst_classes(m.per_class)
    if len(names) > 10 and worst:
        parts.append("<h3>Lowest recall</h3><p>" + ", ".join(
            f"{e(name)} {num(v.get(ev.RECALL), 3)}" for name, v in worst) + "</p>")
    rows = []
    for name in names:
        values = m.per_class.get(name, {})
        cells = [f"<td>{e(name)}</td>"]
        for metric in (ev.PRECISION, ev.RECALL):
            shown = num(values.get(metric))
            if shown == "n/a" and metric == ev.PRECISION:
                shown = "n/a (never predicted)"
            cells.append(f'<td class="num" data-class="{e(name)}" data-metric="{metric}">{shown}</td>')
        cells.append(f'<td class="num" data-class="{e(name)}" data-metric="support">{e(values.get("support", "n/a"))}'
                     "</td>")
        rows.append(cells)
    parts.append("<h3>Per-class precision and recall</h3>"
                 f"<p class='muted'>Of the argmax (the class the model answers), as in the confusion matrix; "
                 f"support = {e(report.split)} examples of the class.</p>"
                 + f'<div class="scroll">{_table(["class", "precision", "recall", "support"], rows, "small", raw=True)}'
                 + "</div>")
    return "".join(parts)


def misclassified(report: ReportData, figures) -> str:
    p = report.predictions
    if p is None:
        return ""
    n_wrong = len(p.wrong)
    intro = (f'<p>The evaluated model (<code>{e(p.model_dir)}</code>, signature serving_default on the raw '
             f'image bytes) run on <strong data-key="scanned">{len(p.labels)}</strong> {e(p.split)} images '
             f'(limit {p.limit}) from <code>{e(p.examples_source)}</code>: '
             f'<strong data-key="misclassified">{n_wrong}</strong> misclassified.</p>')
    if n_wrong:
        body = _img(figures, "misclassified.png", f"misclassified {p.split} images: true and predicted label, "
                                                  "confidence")
    else:
        body = "<p>No misclassified images among them.</p>"
    return intro + body + _img(figures, "predictions.png", f"sample of {p.split} predictions, green right, red wrong")


def topk(report: ReportData, figures) -> str:
    if report.predictions is None:
        return ""
    k = min(TOP_K, len(report.class_names) or TOP_K)
    return (f"<p>The {k} most probable classes for a few {e(report.split)} images (mistakes first); the true class "
            f"is green, a wrong top prediction red.</p>" + _img(figures, "topk.png", f"top-{k} probabilities per image"))


def curves(report: ReportData, figures) -> str:
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


def tuning(report: ReportData) -> str:
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


def data(report: ReportData, figures) -> str:
    d = report.data
    parts = [f"<p>Dataset: <code>{e(d.data_dir or 'n/a')}</code>"
             + (f" - {e(d.description)}" if d.description else "")
             + (" <em>(generated sample set)</em>" if d.generated else "") + "</p>"]
    if d.counts:
        splits = ordered_splits(d.counts)
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
