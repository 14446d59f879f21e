"""`snout report`: one self-contained HTML page about a pipeline run (see report/cli.py).

    from report import write_report
    path = write_report(config_or_workspace)   # <workspace>/report/index.html (+ the PNGs beside it)
"""

from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

DEFAULT_PIPELINE_NAME = "snout"
METADATA_FILE = "metadata.sqlite"


def resolve_target(target: str) -> Tuple[str, str, Optional[str]]:
    """(metadata_path, workspace, evaluation_uri or None) from a workspace dir, its pipeline root,
    a metadata.sqlite path, or one run's Evaluator output (<root>/Evaluator/evaluation/<id>)."""
    from contract.errors import UserError

    path = os.path.abspath(target).rstrip("/")
    if os.path.isfile(path):
        return path, os.path.dirname(path), None
    if not os.path.isdir(path):
        raise UserError(f"{target}: no such file or directory")
    evaluation = path if os.path.isfile(os.path.join(path, "eval_config.json")) else None
    candidate = path
    for _ in range(5):  # the workspace itself, its pipeline_root, or an evaluation 4 levels below it
        if os.path.isfile(os.path.join(candidate, METADATA_FILE)):
            return os.path.join(candidate, METADATA_FILE), candidate, evaluation
        candidate = os.path.dirname(candidate)
    raise UserError(f"{target}: no {METADATA_FILE} in it or above it (give a workspace, its pipeline_root, "
                    f"a metadata file, or an Evaluator output dir)")


def write_report(target, output_dir: Optional[str] = None, pipeline_name: Optional[str] = None,
                 max_images: Optional[int] = None, predictions: bool = True,
                 evaluation: Optional[str] = None) -> str:
    """Writes <output_dir>/index.html and its PNGs; returns the page's path.

    `target` is a SnoutConfig (its metadata path, pipeline name and workspace), a
    workspace directory, a pipeline root, a metadata.sqlite path, or an Evaluator
    output dir. `evaluation` (a ModelEvaluation artifact's uri, e.g.
    RunOutcome.evaluation_dir) picks one run; the default is the newest evaluation.
    `output_dir` defaults to <workspace>/report.
    """
    from report import collect as collect_mod
    from report import html, reuse

    if hasattr(target, "metadata_path") and hasattr(target, "workspace"):
        metadata_path, workspace = os.path.abspath(target.metadata_path), os.path.abspath(target.workspace)
        pipeline_name = pipeline_name or target.pipeline_name
    else:
        metadata_path, workspace, target_evaluation = resolve_target(str(target))
        evaluation = evaluation or target_evaluation
    output_dir = os.path.abspath(output_dir or os.path.join(workspace, "report"))
    cache_dir = os.path.join(output_dir, reuse.CACHE_DIR)  # an unchanged run's model run and figures
    report = collect_mod.collect(metadata_path, pipeline_name or DEFAULT_PIPELINE_NAME,
                                 max_images=max_images or collect_mod.DEFAULT_MAX_IMAGES, predictions=predictions,
                                 evaluation_uri=evaluation, cache_dir=cache_dir)
    figures = html.build_figures(report, cache_dir)
    os.makedirs(output_dir, exist_ok=True)
    for name in html.FIGURE_FILES:  # no stale figure from an older report
        stale = os.path.join(output_dir, name)
        if name not in figures and os.path.isfile(stale):
            os.remove(stale)
    for name, data in figures.items():
        with open(os.path.join(output_dir, name), "wb") as f:
            f.write(data)
    page = os.path.join(output_dir, "index.html")
    tmp = page + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(html.render(report, figures))
    os.replace(tmp, page)
    return page


def report_after_run(config, evaluation: Optional[str] = None) -> Optional[str]:
    """For the end of `snout run`: writes <workspace>/report/index.html for this run's evaluation
    and prints its path; never fails the run (prints a warning instead) and returns the path or None."""
    try:
        path = write_report(config, evaluation=evaluation)
    except Exception as e:  # noqa: BLE001 - the model is already pushed; a report problem must not hide that
        print(f"[snout] warning: could not write the report: {type(e).__name__}: {e}", file=sys.stderr)
        return None
    print(f"[snout] report: {path}")
    return path
