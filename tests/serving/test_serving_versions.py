"""`snout serve` follows the serving directory as the Pusher writes it: new versions load, old
ones unload (latest policy), half-written and broken pushes never take it down."""

import os
import shutil
import time

import requests

from tests.fixtures.serving import (BLUE, RED, b64, fixture_model_template, install_version,
                                    make_serving_dir, solid_image)

from serving.local_server import LocalServer


def _wait(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_loads_new_versions_unloads_old_and_survives_partial_pushes(tmp_path):
    serving_dir = make_serving_dir(str(tmp_path), versions=(1,))
    with LocalServer(serving_dir, grpc_port=None, rest_port=0, poll_seconds=0.2,
                     settle_seconds=0, quiet=True) as server:
        base = server.rest_url + "/v1/models/snout"
        red = {"instances": [b64(solid_image(RED))]}
        assert requests.post(base + ":predict", json=red, timeout=10).json()["predictions"][0][
            "class_name"] == "red"
        # A push in progress: the version directory exists, saved_model.pb not yet.
        os.makedirs(os.path.join(serving_dir, "snout", "3", "variables"))
        # A broken push: saved_model.pb that is not a SavedModel.
        os.makedirs(os.path.join(serving_dir, "snout", "4"))
        with open(os.path.join(serving_dir, "snout", "4", "saved_model.pb"), "wb") as f:
            f.write(b"garbage")
        time.sleep(0.6)
        assert server.store.loaded_versions("snout") == [1]
        assert requests.post(base + ":predict", json=red, timeout=10).status_code == 200
        status = requests.get(base, timeout=10).json()["model_version_status"]
        assert {s["version"]: s["state"] for s in status} == {"4": "END", "1": "AVAILABLE"}

        # The broken push is completed (files rewritten): version 4 loads, 1 is unloaded.
        shutil.copytree(fixture_model_template(), os.path.join(serving_dir, "snout", "4"),
                        dirs_exist_ok=True)
        assert _wait(lambda: server.store.loaded_versions("snout") == [4])
        assert requests.get(base + "/versions/4", timeout=10).json()["model_version_status"][0][
            "state"] == "AVAILABLE"

        # Version 5 arrives (different class names): loaded, becomes the default,
        # version 4 is unloaded (latest policy, keep 1).
        install_version(fixture_model_template(("azul", "rojo")), serving_dir, "snout", 5)
        assert _wait(lambda: server.store.loaded_versions("snout") == [5])
        assert requests.post(base + ":predict", json=red, timeout=10).json()["predictions"][0][
            "class_name"] == "rojo"
        r = requests.post(base + "/versions/4:predict", json=red, timeout=10)
        assert r.status_code == 404 and "Specific(snout, 4)" in r.json()["error"]

        # Version 5 removed from disk: unloaded, 4 is the newest ready one again.
        shutil.rmtree(os.path.join(serving_dir, "snout", "5"))
        assert _wait(lambda: server.store.loaded_versions("snout") == [4])
        assert requests.post(base + ":predict", json=red, timeout=10).json()["predictions"][0][
            "class_name"] == "red"


def test_settling_delays_loading_a_push_in_progress(tmp_path):
    from serving.model_store import ModelStore

    serving_dir = make_serving_dir(str(tmp_path), versions=(1,))
    # copytree keeps the template's mtimes, which may be minutes old: make the push "just written"
    for root, _, files in os.walk(serving_dir):
        for name in files + ["."]:
            os.utime(os.path.join(root, name))
    store = ModelStore(serving_dir, poll_seconds=0, settle_seconds=60, log=lambda m: None)
    store.poll_once()
    assert store.loaded_versions("snout") == []  # files just written: wait for them to settle
    store.settle_seconds = 0
    store.poll_once()
    assert store.loaded_versions("snout") == [1]


def test_keep_all_versions(tmp_path):
    serving_dir = make_serving_dir(str(tmp_path), versions=(1, 2))
    with LocalServer(serving_dir, grpc_port=None, rest_port=0, poll_seconds=0.2,
                     settle_seconds=0, keep_versions=0, quiet=True) as server:
        assert server.store.loaded_versions("snout") == [1, 2]
        for v in (1, 2):
            r = requests.post(server.rest_url + f"/v1/models/snout/versions/{v}:predict",
                              json={"instances": [b64(solid_image(BLUE))]}, timeout=10)
            assert r.status_code == 200
        assert [s["version"] for s in requests.get(server.rest_url + "/v1/models/snout",
                                                   timeout=10).json()["model_version_status"]] == ["2", "1"]
        # No labels configured: a label is ignored by the status call, as by TF Serving's (it lists both)
        r = requests.get(server.rest_url + "/v1/models/snout/labels/stable", timeout=10)
        assert r.status_code == 200 and [s["version"] for s in r.json()["model_version_status"]] == ["2", "1"]


def test_server_without_versions_answers_not_found(tmp_path):
    with LocalServer(str(tmp_path), grpc_port=None, rest_port=0, poll_seconds=0.2, quiet=True) as s:
        r = requests.post(s.rest_url + "/v1/models/snout:predict", json={"instances": ["x"]}, timeout=10)
        assert r.status_code == 404 and r.json()["error"] == "Servable not found for request: Latest(snout)"
