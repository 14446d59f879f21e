"""The edge export (components/lite_export) on the page and in `snout run`'s summary.

Reads LiteExport's lite_parity.json (each TFLite variant vs the SavedModel: size, accuracy, agreement,
McNemar, single-thread latency) and LitePusher's record of where the passing variants went.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from contract import lite as lite_contract
from report.lineage import Lineage, custom_property, latest_artifact, open_store
from report.markup import e, img, num, table

FIGURE = "lite.png"


@dataclass
class LiteSummary:
    parity: Dict[str, object] = field(default_factory=dict)  # lite_parity.json
    folder: str = ""                                          # the LiteModel artifact
    pushed: bool = False
    pushed_dir: str = ""
    pushed_version: str = ""
    pushed_variants: List[str] = field(default_factory=list)
    unchanged: bool = False
    reason: str = ""                                          # why nothing was pushed


def _summary(lite_model, lite_push) -> Optional[LiteSummary]:
    if lite_model is None:
        return None
    with open(os.path.join(lite_model.uri, lite_contract.PARITY_FILE), encoding="utf-8") as f:
        summary = LiteSummary(parity=json.load(f), folder=lite_model.uri)
    if lite_push is not None:
        summary.pushed = bool(custom_property(lite_push, "pushed"))
        summary.pushed_dir = custom_property(lite_push, "pushed_destination") or ""
        summary.pushed_version = custom_property(lite_push, "pushed_version") or ""
        summary.pushed_variants = [v for v in (custom_property(lite_push, lite_contract.PUSH_VARIANTS_KEY) or "")
                                   .split(",") if v]
        summary.unchanged = bool(custom_property(lite_push, lite_contract.PUSH_UNCHANGED_KEY))
        summary.reason = custom_property(lite_push, lite_contract.PUSH_REASON_KEY) or ""
    return summary


def read_latest(metadata_path: str, pipeline_name: str) -> Optional[LiteSummary]:
    """The newest edge export of the pipeline and its push (None when the run had no LiteExport)."""
    store = open_store(metadata_path)
    return _summary(latest_artifact(store, lite_contract.LITE_MODEL_TYPE, pipeline_name),
                    latest_artifact(store, lite_contract.LITE_PUSH_TYPE, pipeline_name))


def read_for_model(store, model) -> Optional[LiteSummary]:
    """The edge export of `model` (the evaluated Model artifact) and its newest push."""
    lineage = Lineage(store)
    types = {t.id: t.name for t in store.get_artifact_types()}
    lite_model = None
    for event in store.get_events_by_artifact_ids([model.id]):
        _, outputs = lineage.io(event.execution_id)
        for artifact in outputs.get("lite_model", []):
            if types.get(artifact.type_id) == lite_contract.LITE_MODEL_TYPE:
                lite_model = artifact if lite_model is None or artifact.id > lite_model.id else lite_model
    if lite_model is None:
        return None
    pusher = lineage.newest_consumer(lite_model)
    return _summary(lite_model, lineage.first_output(pusher, "lite_push"))


def _mb(size) -> str:
    return f"{size / 1e6:.2f} MB" if isinstance(size, (int, float)) else "n/a"


def _ms(value) -> str:
    return f"{value:.2f} ms" if isinstance(value, (int, float)) else "n/a"


def terminal_lines(lite: LiteSummary) -> List[str]:
    """The run's summary: the SavedModel, then one line per variant (size, accuracy, agreement, latency, push)."""
    p = lite.parity
    if p.get("error"):
        return [f"edge export: {p['error']}; nothing pushed (the SavedModel's push does not depend on it)"]
    saved = p["saved_model"]
    lines = [f"edge export (LiteRT, single-thread latency on this CPU; {p['split']} split, {p['example_count']} "
             f"examples): SavedModel accuracy {saved['accuracy']:.4f}, {_ms(saved.get('latency_ms'))}/image, "
             f"variables {_mb(saved.get('variables_bytes'))}"]
    for variant, v in p["variants"].items():
        if v.get("error"):
            lines.append(f"  {v['sentence']}")
            continue
        ratio = (f" ({v['latency_ms'] / saved['latency_ms']:.2f}x)" if isinstance(v.get("latency_ms"), float)
                 and isinstance(saved.get("latency_ms"), float) else "")
        status = "pushed" if variant in lite.pushed_variants else ("passed" if v["passed"] else "NOT pushed")
        lines.append(f"  {v['file']} ({v['weights']}): {_mb(v['bytes'])}, accuracy {v['accuracy']:.4f}, agreement "
                     f"{v['agreement']:.4f}, {_ms(v.get('latency_ms'))}/image{ratio}: {status}")
        if not v["passed"]:
            lines.append(f"    {v['sentence']}")
    if p.get("latency_error"):
        lines.append(f"  latency not measured: {p['latency_error']}")
    resize = p["app_resize"]
    lines.append(f"  an app's bilinear uint8 resize vs Transform's antialiased one: top-1 agreement "
                 f"{resize['agreement']:.4f} (the SavedModel's network fed both)")
    if lite.pushed:
        verb = "already there, unchanged" if lite.unchanged else "pushed"
        lines.append(f"edge models {verb}: {', '.join(lite_contract.VARIANT_FILES[v] for v in lite.pushed_variants)} "
                     f"at {lite.pushed_dir} (version {lite.pushed_version}, the SavedModel's)")
    elif lite.reason:
        lines.append(f"edge models not pushed: {lite.reason}")
    return lines


def figure(lite: LiteSummary) -> bytes:
    """Size and single-thread latency per image: the SavedModel beside each TFLite file."""
    from report import figures as fig

    p = lite.parity
    converted = [v for v in p["variants"].values() if not v.get("error")]
    names = ["SavedModel\n(variables)"] + [v["file"] for v in converted]
    sizes = [p["saved_model"].get("variables_bytes") or 0] + [v["bytes"] for v in converted]
    latencies = [p["saved_model"].get("latency_ms") or 0] + [v.get("latency_ms") or 0 for v in converted]
    colours = ["#59636e"] + [fig.RIGHT if v["passed"] else fig.WRONG for v in converted]
    figure_, axes = fig.plt.subplots(1, 2, figsize=(9, 2.8))
    for ax, values, title in ((axes[0], [s / 1e6 for s in sizes], "size (MB)"),
                              (axes[1], latencies, "latency per image, 1 thread (ms)")):
        bars = ax.barh(names, values, color=colours)
        ax.bar_label(bars, fmt="%.2f", padding=3, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.invert_yaxis()
        ax.margins(x=0.25)
    axes[1].set_yticklabels([])
    return fig._png(figure_)


def section(lite: Optional[LiteSummary], figures: Dict[str, bytes]) -> str:
    if lite is None:
        return '<p id="no-lite">No edge export in this run (<code>--no-lite-export</code>).</p>'
    p = lite.parity
    if p.get("error"):
        return f'<p id="lite-pushed" class="bad">{e(p["error"])}; nothing was pushed.</p>'
    saved = p["saved_model"]
    rows = [["SavedModel (reference)", "float32", _mb(saved.get("variables_bytes")) + " (variables)",
             num(saved["accuracy"]), "1.0000", "", "", _ms(saved.get("latency_ms")), "served"]]
    for variant, v in p["variants"].items():
        status = "pushed" if variant in lite.pushed_variants else ("passed" if v["passed"] else "not pushed")
        if v.get("error"):
            rows.append([v["file"], v.get("weights", ""), "", "", "", "", "", "", "conversion failed"])
            continue
        rows.append([v["file"], v["weights"], _mb(v["bytes"]), num(v["accuracy"]), num(v["agreement"]),
                     num(v["drop"]), num(v["p_value"]), _ms(v.get("latency_ms")), status])
    resize, calibration = p["app_resize"], p["calibration"]
    parts = [f"<p>Each TFLite file in {e(p.get('interpreter', 'LiteRT'))}'s interpreter on the same "
             f"{p['example_count']} {e(p['split'])} examples the Evaluator graded, fed as an app would "
             f"(decode, bilinear resize to {p['input']['shape'][2]}x{p['input']['shape'][1]}, uint8); rule: "
             f"pushed only if the accuracy drop is at most {p['rule']['max_accuracy_drop']} and McNemar's "
             f"one-sided p &gt;= {p['rule']['alpha']}.</p>",
             img(figures, FIGURE, "size and single-thread latency per image, SavedModel vs TFLite"),
             table(["file", "weights", "size", "accuracy", "agreement", "drop", "McNemar p",
                    "latency / image (1 thread)", "status"], rows, "small lite"),
             "<ul>" + "".join(f'<li class="{"ok" if v["passed"] else "bad"}" data-variant="{e(k)}">{e(v["sentence"])}'
                              "</li>" for k, v in p["variants"].items()) + "</ul>",
             f"<p class='muted'>The resize alone (the SavedModel's network on an app's bilinear uint8 pixels vs on "
             f"Transform's antialiased resize): top-1 agreement {num(resize['agreement'])}, accuracy "
             f"{num(resize['accuracy'])}. int8 calibrated on {calibration['images']} {e(calibration['split'])} "
             f"images (seed {calibration['seed']}; asked for {calibration['requested']}).</p>"]
    if lite.pushed:
        parts.append(f'<p id="lite-pushed">Pushed: version <strong>{e(lite.pushed_version)}</strong> at '
                     f'<code>{e(lite.pushed_dir)}</code>{" (already there, unchanged)" if lite.unchanged else ""}</p>')
    else:
        parts.append(f'<p id="lite-pushed">Not pushed: {e(lite.reason or "no push recorded")}</p>')
    return "".join(parts)
