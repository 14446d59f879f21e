"""`snout compare --list WORKSPACE`: the runs a workspace holds, with the ids `WORKSPACE@ID` takes."""

from __future__ import annotations

import time
from typing import List

from contract import evaluation as ev
from report import lineage as mlmd
from report import resolve_target
from report.compare.resolve import evaluation_of
from report.compare.runs import trainer_settings


def list_runs(workspace: str, pipeline_name: str = "snout") -> List[dict]:
    """One row per trained model, oldest first: Trainer execution id, time, settings, test accuracy, blessing."""
    metadata_path, _, _ = resolve_target(workspace)
    store = mlmd.open_store(metadata_path)
    lineage = mlmd.Lineage(store)
    context = store.get_context_by_type_and_name("pipeline", pipeline_name)
    types = {t.id: t.name for t in store.get_artifact_types()}
    models = [a for a in (store.get_artifacts_by_context(context.id) if context else [])
              if types.get(a.type_id) == "Model"]
    rows = []
    for model in sorted(models, key=lambda a: a.id):
        trainer = lineage.producer(model)
        config = trainer_settings(trainer) if trainer is not None else {}
        row = {"trainer_execution_id": trainer.id if trainer is not None else None,
               "trained": time.strftime("%Y-%m-%d %H:%M", time.localtime(model.create_time_since_epoch / 1000)),
               "backbone": config.get("backbone"), "weights": config.get("weights"),
               "image_size": config.get("image_size"), "epochs": config.get("epochs"),
               "accuracy": None, "blessed": None, "evaluator_execution_id": None}
        evaluation = evaluation_of(lineage, model)
        gate = _gate(evaluation.uri) if evaluation is not None else None
        if gate is not None:
            found = [c.value for c in gate.checks if c.name == "min_accuracy"]
            row.update(accuracy=found[0] if found else None, blessed=gate.blessed, split=gate.split,
                       evaluator_execution_id=lineage.producer(evaluation).id)
        rows.append(row)
    return rows


def _gate(evaluation_uri: str):
    try:
        return ev.read_gate(evaluation_uri)
    except (FileNotFoundError, ValueError, TypeError):  # an evaluation without (or with an older) gate.json
        return None
