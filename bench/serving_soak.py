"""Soak: N clients for M seconds against `snout serve` (a separate process on loopback), a mix
of good and bad requests over gRPC and REST. Prints outcomes by request kind (bad requests
must get their TF Serving status, never a 5xx or a dropped connection), p50/p99 latency of
the good ones, and the server's RSS at start, peak and end.

  .venv/bin/python bench/bench_serving.py --soak [--clients 8] [--seconds 60] [--model tiny]
"""

from __future__ import annotations

import base64
import collections
import random
import statistics
import threading
import time

import requests

MAX_CLIENTS, MAX_SECONDS = 64, 900
LIMIT_FLAGS = ["--max-images-per-request", "64", "--max-image-pixels", "4000000",
               "--max-request-bytes", str(8 << 20), "--read-timeout-seconds", "5"]


def _request_kinds(image: bytes, stub, rest_url: str):
    """kind -> (call, expected outcome). An outcome is "OK", a gRPC code name or "HTTP <status>"."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    from tests.fixtures.serving import png_declaring

    def grpc_predict(images, signature=""):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "snout"
        request.model_spec.signature_name = signature
        request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(images, dtype=tf.string))
        try:
            stub.Predict(request, timeout=120)
            return "OK"
        except grpc.RpcError as e:
            return e.code().name

    def rest(body=None, data=None, headers=None):
        r = requests.post(rest_url + "/v1/models/snout:predict", json=body, data=data, headers=headers,
                          timeout=120)
        r.json()  # every answer, error or not, is JSON
        return "OK" if r.status_code == 200 else f"HTTP {r.status_code}"

    b64 = {"b64": base64.b64encode(image).decode()}
    return {
        "grpc good (1 image)": (lambda: grpc_predict([image]), "OK"),
        "grpc good (16 images)": (lambda: grpc_predict([image] * 16), "OK"),
        "rest good (1 image)": (lambda: rest({"instances": [b64]}), "OK"),
        "grpc not an image": (lambda: grpc_predict([b"not an image"]), "INVALID_ARGUMENT"),
        "grpc unknown signature": (lambda: grpc_predict([image], "nope"), "FAILED_PRECONDITION"),
        "grpc too many images": (lambda: grpc_predict([image] * 65), "INVALID_ARGUMENT"),
        "grpc 20000x20000 header": (lambda: grpc_predict([png_declaring(20000, 20000)]), "INVALID_ARGUMENT"),
        "grpc empty batch": (lambda: grpc_predict([]), "INVALID_ARGUMENT"),
        "rest malformed JSON": (lambda: rest(data=b"{not json"), "HTTP 400"),
        "rest deeply nested JSON": (lambda: rest(data=b'{"instances":' + b"[" * 50000 + b"]" * 50000 + b"}"),
                                    "HTTP 400"),
        "rest body over limit": (lambda: rest(data=b"\0" * ((8 << 20) + 1)), "HTTP 413"),
    }


def _rss_sampler(pid: int, stop: threading.Event, samples: list) -> None:
    from tests.fixtures.serving import rss_mb

    while not stop.wait(0.2):
        samples.append(rss_mb(pid))


def run_soak(serving_dir: str, image: bytes, clients: int, seconds: float) -> int:
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from tests.fixtures.serving import rss_mb, start_server_process, stop_server_process

    clients, seconds = max(1, min(clients, MAX_CLIENTS)), max(1.0, min(seconds, MAX_SECONDS))
    proc, address, rest_url = start_server_process(serving_dir, "--host", "127.0.0.1", *LIMIT_FLAGS)
    try:
        channel = grpc.insecure_channel(address)
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        kinds = _request_kinds(image, stub, rest_url)
        deadline = time.time() + 120
        while kinds["grpc good (1 image)"][0]() != "OK":  # loaded and warm
            if time.time() > deadline:
                raise RuntimeError("the model did not load")
            time.sleep(0.5)
        start_rss = rss_mb(proc.pid)
        outcomes = collections.defaultdict(collections.Counter)
        latencies, lock = [], threading.Lock()
        names = list(kinds)
        end = time.time() + seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.time() < end:
                name = rng.choice(names)
                t = time.perf_counter()
                try:
                    outcome = kinds[name][0]()
                except Exception as e:  # a dropped connection or a non-JSON answer
                    outcome = f"client error {type(e).__name__}"
                elapsed = time.perf_counter() - t
                with lock:
                    outcomes[name][outcome] += 1
                    if kinds[name][1] == "OK" and outcome == "OK":
                        latencies.append(elapsed)

        stop, rss = threading.Event(), []
        sampler = threading.Thread(target=_rss_sampler, args=(proc.pid, stop, rss), daemon=True)
        sampler.start()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(2.0)
        end_rss = rss_mb(proc.pid)
        stop.set()
        sampler.join()
        channel.close()
        return _report(clients, seconds, kinds, outcomes, latencies, start_rss, max(rss + [end_rss]), end_rss)
    finally:
        stop_server_process(proc)


def _report(clients, seconds, kinds, outcomes, latencies, start_rss, peak_rss, end_rss) -> int:
    total = sum(sum(c.values()) for c in outcomes.values())
    print(f"soak: {clients} clients x {seconds:g} s, {total} requests; server limits {' '.join(LIMIT_FLAGS)}")
    unexpected = 0
    for name, (_, expected) in kinds.items():
        counts = outcomes.get(name, collections.Counter())
        wrong = sum(n for outcome, n in counts.items() if outcome != expected)
        unexpected += wrong
        shown = ", ".join(f"{outcome} {n}" for outcome, n in counts.most_common())
        print(f"  {name:26s} expect {expected:20s} got {shown or '-'}{'   <-- UNEXPECTED' if wrong else ''}")
    if latencies:
        ms = sorted(x * 1000.0 for x in latencies)
        p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
        print(f"  good requests: p50 {statistics.median(ms):.1f} ms  p99 {p99:.1f} ms  (n={len(ms)})")
    print(f"  server RSS: start {start_rss:.0f} MB  peak {peak_rss:.0f} MB  end {end_rss:.0f} MB "
          f"(end/start {end_rss / start_rss:.2f}x)")
    print(f"  unexpected outcomes: {unexpected}")
    return 1 if unexpected else 0
