"""`snout compare`: runs side by side on one page (DIR/index.html) and in DIR/compare.json.

    from report.compare import write_comparison
    comparison = write_comparison(["ws", "ws@12", "ws/serving/snout/3"], "out")

resolve.py turns each argument into a run in MLMD; runs.py gathers what `snout report` would
(report/collect.py) plus settings, timing and size; grade.py digests the data, runs every model
on its test photos and tests each pair; table.py, figures.py and page.py draw the result.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from contract.errors import UserError
from report.compare import grade
from report.compare.pairs import PairTest
from report.compare.resolve import locate
from report.compare.runs import RUN_LABELS, Run, build_run
from report.compare.table import Row, build_table

PAGE_FILE, JSON_FILE = "index.html", "compare.json"


@dataclass
class Comparison:
    runs: List[Run]
    rows: List[Row] = field(default_factory=list)
    outcomes: Dict[str, grade.Outcome] = field(default_factory=dict)
    pairs: List[PairTest] = field(default_factory=list)
    disagreements: List[grade.Disagreements] = field(default_factory=list)
    max_test_images: int = grade.DEFAULT_MAX_TEST_IMAGES
    generated_at: str = ""


def compare(arguments: List[str], pipeline_name: str = "snout", workspace: Optional[str] = None,
            max_test_images: int = grade.DEFAULT_MAX_TEST_IMAGES,
            log: Callable[[str], None] = lambda line: None) -> Comparison:
    if len(arguments) < 2:
        raise UserError("give at least two runs to compare")
    if len(arguments) > len(RUN_LABELS):
        raise UserError(f"at most {len(RUN_LABELS)} runs at a time")
    if max_test_images < 1:
        raise UserError("--max-test-images must be >= 1")
    runs = []
    for label, argument in zip(RUN_LABELS, arguments):
        run = build_run(label, locate(argument, pipeline_name, workspace), pipeline_name)
        log(f"{label} = {argument}: {run.note}" + (f", Trainer execution {run.trainer_execution_id}"
                                                  if run.trainer_execution_id else ""))
        runs.append(run)
    grade.digest_data(runs, log)
    comparison = Comparison(runs=runs, max_test_images=max_test_images,
                            generated_at=time.strftime("%Y-%m-%d %H:%M:%S"))
    comparison.outcomes = grade.run_models(runs, max_test_images, log)
    comparison.pairs = grade.pairwise(runs, comparison.outcomes)
    comparison.disagreements = grade.disagreements(runs, comparison.outcomes)
    comparison.rows = build_table(runs)
    return comparison


def write_comparison(arguments: List[str], output_dir: str, **kwargs) -> Comparison:
    """Compares the runs and writes <output_dir>/index.html, compare.json and the figures' PNGs."""
    from report.compare import page

    comparison = compare(arguments, **kwargs)
    output_dir = os.path.abspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    figures = page.build_figures(comparison)
    for name in os.listdir(output_dir):  # no stale figure from an earlier comparison
        if page.is_figure_file(name) and name not in figures:
            os.remove(os.path.join(output_dir, name))
    for name, data in figures.items():
        with open(os.path.join(output_dir, name), "wb") as f:
            f.write(data)
    _write_atomically(os.path.join(output_dir, JSON_FILE),
                      json.dumps(page.summary(comparison, figures), indent=2, default=page.json_default))
    _write_atomically(os.path.join(output_dir, PAGE_FILE), page.render(comparison, figures))
    return comparison


def _write_atomically(path: str, text: str) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
