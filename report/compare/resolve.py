"""What each `snout compare` argument names: a workspace, a workspace@execution, or a pushed model directory.

    WORKSPACE          its newest blessed run, else its newest evaluated run, else its newest trained model
    WORKSPACE@ID       one run: ID is its Trainer execution (the number in pipeline_root/Trainer/model/ID)
                       or its Evaluator execution; `snout compare --list WORKSPACE` lists them
    MODEL_DIR          a pushed SavedModel (<serving>/<model>/<version>, or <serving>/<model>: its newest
                       version): found in the MLMD store of the workspace above it (or --workspace) by the
                       Pusher's record; else only its provenance (assets.extra/snout_model.json) is known

MLMD is read as report/lineage.py reads it: the run is anchored on the Trainer's Model artifact and,
when there is one, the newest evaluation in which the Evaluator graded that model as the candidate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import contract
from contract.errors import UserError
from report import resolve_target
from report import lineage as mlmd

SAVED_MODEL_FILE = "saved_model.pb"
WORKSPACE_LEVELS = 5  # how far above a model dir its workspace's metadata.sqlite is looked for


@dataclass
class Located:
    """Where one argument's run is: an MLMD store with its model (and evaluation), or just a model dir."""
    source: str
    metadata_path: Optional[str] = None
    workspace: Optional[str] = None
    model: object = None            # the Trainer's Model artifact
    evaluation: object = None       # the Evaluator's ModelEvaluation of that model, or None
    model_dir: Optional[str] = None  # the pushed model dir given (without `model`: known by its provenance only)
    note: str = ""                  # how the run was chosen, for the page


def split_argument(argument: str):
    """(path, execution id or None): `ws@123` names an execution; a path that exists is taken whole."""
    if os.path.exists(argument) or "@" not in argument:
        return argument, None
    path, _, suffix = argument.rpartition("@")
    if not suffix.isdigit():
        raise UserError(f"{argument}: after '@' give an execution id (a number), e.g. ws@12")
    return path, int(suffix)


def model_dir_of(path: str) -> Optional[str]:
    """The SavedModel a path names: itself, or the newest numbered version in it; None for other folders."""
    if os.path.isfile(os.path.join(path, SAVED_MODEL_FILE)):
        return os.path.abspath(path)
    versions = [v for v in os.listdir(path) if v.isdigit() and os.path.isfile(os.path.join(path, v, SAVED_MODEL_FILE))]
    return os.path.abspath(os.path.join(path, max(versions, key=int))) if versions else None


def locate(argument: str, pipeline_name: str, workspace: Optional[str] = None) -> Located:
    path, execution_id = split_argument(argument)
    if not os.path.exists(path):
        raise UserError(f"{argument}: no such workspace or model directory")
    model_dir = model_dir_of(path) if os.path.isdir(path) and execution_id is None else None
    if model_dir:
        return _locate_model_dir(argument, model_dir, pipeline_name, workspace)
    metadata_path, found_workspace, evaluation_uri = resolve_target(path)
    located = Located(argument, metadata_path, found_workspace)
    store = mlmd.open_store(metadata_path)
    lineage = mlmd.Lineage(store)
    if execution_id is not None:
        _from_execution(located, store, lineage, execution_id, pipeline_name)
    elif evaluation_uri:
        located.evaluation = max(store.get_artifacts_by_uri(evaluation_uri), key=lambda a: a.id)
        located.note = "this evaluation"
    else:
        _newest(located, store, lineage, pipeline_name)
    if located.model is None and located.evaluation is not None:
        located.model = lineage.first_input(lineage.producer(located.evaluation), "model")
    if located.evaluation is None and located.model is not None:
        located.evaluation = evaluation_of(lineage, located.model)
    return located


def evaluation_of(lineage, model):
    """The newest ModelEvaluation of `model` as the Evaluator's candidate (not as its baseline)."""
    events = lineage.store.get_events_by_artifact_ids([model.id])
    inputs = (mlmd.pb.Event.INPUT, mlmd.pb.Event.DECLARED_INPUT)
    consumers = sorted({e.execution_id for e in events if e.type in inputs}, reverse=True)
    for execution_id in consumers:
        inputs, outputs = lineage.io(execution_id)
        if any(a.id == model.id for a in inputs.get("model", [])) and outputs.get("evaluation"):
            return outputs["evaluation"][0]
    return None


def node_of(store, execution_id: int, pipeline_name: str) -> Optional[str]:
    """The pipeline node (Trainer, Evaluator, ...) an execution belongs to."""
    prefix = pipeline_name + "."
    for context in store.get_contexts_by_execution(execution_id):
        if context.name.startswith(prefix) and store.get_context_types_by_id([context.type_id])[0].name == "node":
            return context.name[len(prefix):]
    return None


def _from_execution(located: Located, store, lineage, execution_id: int, pipeline_name: str) -> None:
    if not store.get_executions_by_id([execution_id]):
        raise UserError(f"{located.source}: no execution {execution_id} in {located.metadata_path} "
                        f"(`snout compare --list {located.workspace}` lists the runs)")
    node = node_of(store, execution_id, pipeline_name)
    _, outputs = lineage.io(execution_id)
    if node == "Trainer" and outputs.get("model"):
        located.model, located.note = outputs["model"][0], "named by its Trainer execution id"
    elif node == "Evaluator" and outputs.get("evaluation"):
        located.evaluation, located.note = outputs["evaluation"][0], "named by its Evaluator execution id"
    else:
        raise UserError(f"{located.source}: execution {execution_id} is the {node or 'unknown'} node's; give a "
                        f"Trainer or Evaluator execution id (`snout compare --list {located.workspace}`)")


def _newest(located: Located, store, lineage, pipeline_name: str) -> None:
    """The newest blessed run, else the newest evaluated one, else the newest trained model."""
    blessings = [b for b in _live(store, "ModelBlessing", pipeline_name) if mlmd.custom_property(b, "blessed")]
    for blessing in sorted(blessings, key=lambda a: a.id, reverse=True):
        located.evaluation = lineage.first_output(lineage.producer(blessing), "evaluation")
        if located.evaluation is not None:
            located.note = "the workspace's newest blessed run"
            return
    located.evaluation = mlmd.latest_artifact(store, "ModelEvaluation", pipeline_name)
    if located.evaluation is not None:
        located.note = "the workspace's newest run (none blessed)"
        return
    located.model = mlmd.latest_artifact(store, "Model", pipeline_name)
    if located.model is None:
        raise UserError(f"{located.source}: pipeline '{pipeline_name}' in {located.metadata_path} has no trained model")
    located.note = "the workspace's newest trained model (not evaluated)"


def _live(store, type_name: str, pipeline_name: str):
    context = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if context is None:
        return []
    types = {t.id: t.name for t in store.get_artifact_types()}
    return [a for a in store.get_artifacts_by_context(context.id)
            if types.get(a.type_id) == type_name and a.state == mlmd.pb.Artifact.LIVE]


def _workspace_above(model_dir: str) -> Optional[str]:
    folder = model_dir
    for _ in range(WORKSPACE_LEVELS):
        folder = os.path.dirname(folder)
        if os.path.isfile(os.path.join(folder, "metadata.sqlite")):
            return folder
    return None


def _locate_model_dir(source: str, model_dir: str, pipeline_name: str, workspace: Optional[str]) -> Located:
    """A pushed model: its run through the Pusher's record (pushed_destination) in the workspace's store."""
    located = Located(source, model_dir=model_dir, note="a pushed model directory")
    if not os.path.isfile(os.path.join(model_dir, contract.MODEL_EXTRA_DIR, contract.MODEL_INFO_FILE)):
        raise UserError(f"{source}: {model_dir} has no {contract.MODEL_EXTRA_DIR}/{contract.MODEL_INFO_FILE}: "
                        "not a model snout exported")
    workspace = workspace or _workspace_above(model_dir)
    if workspace is None:
        located.note += " (no workspace found above it; pass --workspace to find its run)"
        return located
    metadata_path, located.workspace, _ = resolve_target(workspace)
    store = mlmd.open_store(metadata_path)
    lineage = mlmd.Lineage(store)
    pushes = [p for p in _live(store, "PushedModel", pipeline_name)
              if os.path.abspath(str(mlmd.custom_property(p, "pushed_destination") or "")) == model_dir]
    for push in sorted(pushes, key=lambda a: a.id, reverse=True):
        model = lineage.first_input(lineage.producer(push), "model")
        if model is not None:
            located.metadata_path, located.model = metadata_path, model
            located.evaluation = evaluation_of(lineage, model)
            located.note = f"pushed model {model_dir}, found in the workspace by its push"
            return located
    located.note += f" (no push of it recorded in {metadata_path})"
    return located
