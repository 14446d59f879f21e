"""The Tuner's trials behind a run: KerasTuner trial files, or the Tuner's tuner_results.json."""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

TUNER_PROJECT = "snout_head_search"


@dataclass
class Tuning:
    trials: List[dict] = field(default_factory=list)  # trial_id, status, score, values{...}
    best_hyperparameters: Dict[str, object] = field(default_factory=dict)
    source: str = ""


def read_tuning(hyperparameters, lineage) -> Optional[Tuning]:
    """The search that produced the Trainer's `hyperparameters` artifact; None when the run did not tune."""
    if hyperparameters is None:
        return None
    tuning = Tuning()
    best_file = os.path.join(hyperparameters.uri, "best_hyperparameters.txt")
    if os.path.isfile(best_file):
        with open(best_file, encoding="utf-8") as f:
            best = json.load(f)
        tuning.best_hyperparameters = dict(best.get("values", best))
    node_dir = os.path.dirname(os.path.dirname(hyperparameters.uri.rstrip("/")))
    tuning.trials, tuning.source = read_trials(node_dir), node_dir
    results = lineage.first_output(lineage.producer(hyperparameters), "tuner_results")
    path = os.path.join(results.uri, "tuner_results.json") if results is not None else ""
    if not tuning.trials and path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)
        tuning.trials = [{"trial_id": str(r.pop("trial_id", "")), "status": "COMPLETED",
                          "score": r.pop("score", None), "values": r} for r in rows]
        tuning.source = path
    return tuning


def read_trials(search_dir: str, project: str = TUNER_PROJECT) -> List[dict]:
    """KerasTuner trial_*/trial.json files under `search_dir` (hidden .system dirs included)."""
    projects = []
    for root, dirs, _ in os.walk(search_dir):
        if os.path.basename(root) == project:
            projects.append(root)
            dirs[:] = []
    if not projects:
        return []
    newest = max(projects, key=os.path.getmtime)
    trials = []
    for path in sorted(glob.glob(os.path.join(newest, "trial_*", "trial.json"))):
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        metrics = {}
        for name, metric in (state.get("metrics") or {}).get("metrics", {}).items():
            observations = metric.get("observations") or []
            if observations:
                value = observations[-1].get("value")
                metrics[name] = value[0] if isinstance(value, list) and value else value
        trials.append({
            "trial_id": str(state.get("trial_id", "")),
            "status": state.get("status", ""),
            "score": state.get("score"),
            "best_step": state.get("best_step"),
            "values": dict((state.get("hyperparameters") or {}).get("values", {})),
            "metrics": metrics,
        })
    return trials
