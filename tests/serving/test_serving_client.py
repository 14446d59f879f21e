"""`snout predict` and the gRPC/REST clients against the local server, a bounded
load test, and `snout serve` as a real process."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.fixtures.serving import BLUE, RED, free_port, make_serving_dir, solid_image

import contract
from cli import main as snout_cli, predict as predict_cli, serve as serve_cli
from serving.client_common import with_retries
from serving.errors import ServerUnreachable, ServingError
from serving.grpc_client import GrpcClient
from serving.rest_client import RestClient

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from serving.local_server import LocalServer

    serving_dir = make_serving_dir(str(tmp_path_factory.mktemp("srv")), versions=(1,))
    with LocalServer(serving_dir, grpc_port=0, rest_port=0, poll_seconds=0.5, settle_seconds=0,
                     quiet=True) as s:
        yield s


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    files = {
        "red.jpg": solid_image(RED), "blue.png": solid_image(BLUE, "PNG"),
        "red2.png": solid_image(RED, "PNG"), "blue2.jpg": solid_image(BLUE),
        "notes.txt": b"hello, not a photo",
        "broken.jpg": b"\xff\xd8\xff" + b"garbage" * 20,  # JPEG magic, undecodable
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return {name: str(d / name) for name in files}


def _clients(server):
    return [GrpcClient(server.grpc_address, timeout=10, retries=0),
            RestClient(server.rest_url, timeout=10, retries=0)]


# ---------------------------------------------------------------- library clients

def test_clients_predict_classify_info(server):
    for client in _clients(server):
        with client:
            result = client.predict([solid_image(RED), solid_image(BLUE)], "snout")
            assert list(result.outputs["class_name"]) == ["red", "blue"]
            assert result.outputs["probabilities"].shape == (2, 2)
            result = client.predict([solid_image(BLUE)], "snout", 1, "serving_tf_example")
            assert list(result.outputs["class_name"]) == ["blue"]
            rows = client.classify([solid_image(RED)], "snout").rows
            assert dict(rows[0])["red"] > 0.9 and [label for label, _ in rows[0]] == ["blue", "red"]
            info = client.model_info("snout")
            assert info.versions == [(1, "AVAILABLE")]
            assert {"serving_default", "serving_tf_example", "classification"} <= set(info.signatures)
            assert info.signatures["serving_default"]["inputs"] == {"image_bytes": "string"}
            assert info.signatures["classification"]["method_name"] == "tensorflow/serving/classify"


def test_clients_map_errors(server):
    for client in _clients(server):
        with client:
            with pytest.raises(ServingError) as e:
                client.predict([solid_image(RED)], "snout", version=7)
            assert e.value.code == "NOT_FOUND" and "Specific(snout, 7)" in e.value.message
            with pytest.raises(ServingError) as e:
                client.predict([b"\xff\xd8\xffjunk"], "snout")
            assert e.value.code == "INVALID_ARGUMENT"
            with pytest.raises(ServingError) as e:
                client.model_info("nope")
            assert e.value.code == "NOT_FOUND"


def test_unreachable_server_is_retried_then_reported():
    port = free_port()
    for client in (GrpcClient(f"127.0.0.1:{port}", timeout=2, retries=1, backoff_seconds=0.01),
                   RestClient(f"http://127.0.0.1:{port}", timeout=2, retries=1, backoff_seconds=0.01)):
        with client, pytest.raises(ServerUnreachable) as e:
            client.predict([solid_image(RED)], "snout")
        assert e.value.message.startswith("cannot reach TF Serving at ")


def test_with_retries_backoff_only_on_retryable():
    sleeps, calls = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "ok"

    assert with_retries(flaky, lambda e: isinstance(e, ConnectionError), 2, 0.1, sleeps.append) == "ok"
    assert sleeps == [0.1, 0.2]
    calls.clear()
    with pytest.raises(ValueError):
        with_retries(lambda: (_ for _ in ()).throw(ValueError("bad")), lambda e: False, 5, 0.1,
                     sleeps.append)


def test_client_modules_do_not_import_tensorflow():
    code = ("import sys; import serving.grpc_client, serving.rest_client, cli.predict;"
            "from serving import protos; m = protos.messages();"
            "print(m.lightweight, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.split() == ["True", "False"], out.stderr


def test_image_sniffing():
    """The clients skip what contract.image_format does not recognise."""
    assert contract.image_format(solid_image(RED)) == "JPEG"
    assert contract.image_format(solid_image(RED, "PNG")) == "PNG"
    assert contract.image_format(b"hello") is None


# ---------------------------------------------------------------- snout predict

@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_cli_predict_top_k(server, photos, transport, capsys):
    where = ["--server", server.grpc_address] if transport == "grpc" else ["--rest", server.rest_url]
    rc = snout_cli.main(["predict", *where, "--top-k", "2", photos["red.jpg"], photos["blue.png"]])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert out[0] == photos["red.jpg"] and out[1].startswith("  red 0.99") and out[2].startswith("  blue 0.0")
    assert out[3] == photos["blue.png"] and out[4].startswith("  blue 0.99")


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_cli_bad_files_are_skipped_others_predicted(server, photos, transport, capsys):
    where = ["--server", server.grpc_address] if transport == "grpc" else ["--rest", server.rest_url]
    files = [photos[n] for n in ("red.jpg", "notes.txt", "broken.jpg", "blue.png", "red2.png",
                                 "blue2.jpg")] + [photos["red.jpg"] + ".missing"]
    rc = snout_cli.main(["predict", *where, "--batch-size", "2", "--json", "--top-k", "1", *files])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert rc == 1
    by_file = {r["file"]: r for r in report["results"]}
    assert report["version"] == 1
    for name, label in (("red.jpg", "red"), ("blue.png", "blue"), ("red2.png", "red"), ("blue2.jpg", "blue")):
        assert by_file[photos[name]]["top_k"][0]["label"] == label
    assert "not an image" in by_file[photos["notes.txt"]]["error"]
    assert "rejected by the model" in by_file[photos["broken.jpg"]]["error"]
    assert "cannot read" in by_file[photos["red.jpg"] + ".missing"]["error"]
    assert "notes.txt: not an image" in captured.err


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_cli_classify_api_and_info(server, photos, transport, capsys):
    where = ["--server", server.grpc_address] if transport == "grpc" else ["--rest", server.rest_url]
    assert snout_cli.main(["predict", *where, "--api", "classify", "--top-k", "1", photos["blue2.jpg"]]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("  blue 0.99")
    assert snout_cli.main(["predict", *where, "--info"]) == 0
    out = capsys.readouterr().out
    assert "snout version 1: AVAILABLE" in out and "signature classification" in out


def test_cli_unknown_model_version_and_unreachable(server, photos, capsys):
    rc = snout_cli.main(["predict", "--server", server.grpc_address, "--version", "7", photos["red.jpg"]])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "model snout version 7 not found" in err[0] and "Specific(snout, 7)" in err[0]
    rc = snout_cli.main(["predict", "--rest", server.rest_url, "--model", "nope", photos["red.jpg"]])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "model nope not found" in err[0]
    port = free_port()
    for where in (["--server", f"127.0.0.1:{port}"], ["--rest", f"http://127.0.0.1:{port}"]):
        rc = snout_cli.main(["predict", *where, "--retries", "1", "--timeout", "2", photos["red.jpg"]])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and "cannot reach TF Serving at 127.0.0.1" in err[0].replace(
            "http://", "")


def test_cli_unknown_signature_is_one_line(server, photos, capsys):
    rc = snout_cli.main(["predict", "--server", server.grpc_address, "--signature", "nope",
                   photos["red.jpg"], photos["blue.png"]])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and 'Serving signature key "nope" not found.' in err[0]


def test_register_adds_both_subcommands():
    import argparse

    parser = argparse.ArgumentParser(prog="snout")
    subparsers = parser.add_subparsers(dest="command", required=True)
    predict_cli.register(subparsers)
    serve_cli.register(subparsers)
    args = parser.parse_args(["predict", "--rest", "http://h:8501", "a.jpg"])
    assert args.func is predict_cli.predict_command and args.top_k == 3 and args.batch_size == 32
    args = parser.parse_args(["serve", "--serving-dir", "/x"])
    assert args.func is serve_cli.serve_command and args.host == "127.0.0.1" and args.grpc_port == 8500


# ---------------------------------------------------------------- load

def test_bounded_load_no_errors(server):
    """6 concurrent clients (3 gRPC, 3 REST), 3000 requests, stopped at 90 s at the latest."""
    per_client, deadline = 500, time.time() + 90
    images = [solid_image(RED), solid_image(BLUE, "PNG")]
    counts, errors = [], []

    def run(client):
        done = 0
        with client:
            while done < per_client and time.time() < deadline:
                try:
                    result = client.predict([images[done % 2]], "snout")
                    expected = "red" if done % 2 == 0 else "blue"
                    if result.outputs["class_name"][0] != expected:
                        errors.append(f"wrong class {result.outputs['class_name'][0]}")
                except Exception as e:  # counted, not raised: report them all
                    errors.append(repr(e))
                done += 1
        counts.append(done)

    clients = [GrpcClient(server.grpc_address, timeout=10, retries=0) for _ in range(3)] + \
              [RestClient(server.rest_url, timeout=10, retries=0) for _ in range(3)]
    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.time() - start
    total = sum(counts)
    print(f"\nload: {total} requests from {len(clients)} clients in {elapsed:.1f}s "
          f"({total / elapsed:.0f}/s), {len(errors)} errors")
    assert errors == []
    assert total == per_client * len(clients), f"only {total} requests finished within the time bound"


# ---------------------------------------------------------------- snout serve process

def test_snout_serve_process_end_to_end(tmp_path, photos, capsys):
    serving_dir = make_serving_dir(str(tmp_path), versions=(3,))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--serving-dir", serving_dir, "--grpc-port", "0",
         "--rest-port", "0", "--poll-seconds", "1"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        grpc_address = rest_url = None
        deadline = time.time() + 90
        while time.time() < deadline and grpc_address is None:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("gRPC on "):
                parts = line.split()
                grpc_address, rest_url = parts[2], parts[5]
        assert grpc_address, "snout serve did not print its addresses"
        assert grpc_address.startswith("127.0.0.1:") and rest_url.startswith("http://127.0.0.1:")
        assert snout_cli.main(["predict", "--server", grpc_address, "--json", photos["red.jpg"]]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["version"] == 3 and report["results"][0]["top_k"][0]["label"] == "red"
        assert snout_cli.main(["predict", "--rest", rest_url, photos["blue.png"]]) == 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
