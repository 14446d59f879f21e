"""Benchmark: gRPC Predict through `snout serve` vs calling the SavedModel in-process.

  .venv/bin/python bench/bench_serving.py [--saved-model-dir DIR] [--model conv|tiny]

DIR is a SavedModel version directory (has saved_model.pb) or a model base directory
(<DIR>/<version>/saved_model.pb), e.g. a pushed serving_dir/snout. Without it a
fixture-like model with the pushed model's signatures is exported to a temp dir:
"mobilenet" (default) decodes, resizes to 224x224 and runs a random-weight
MobileNetV2 + 2-class head (the pipeline's backbone, so about the real model's
cost); "conv" runs 4 small conv layers instead (~2 ms/image); "tiny" is the 8x8
test fixture (almost no work, so it shows the fixed per-request overhead).

The server runs as a separate process (`python -m cli serve`, like TF Serving
would); in-process and gRPC measurements alternate in blocks so that load from
other processes on the machine hits both alike. Prints p50/p99 for one image and
images/s for batches of 32, each with the in-process number and the ratio.

With --soak it runs bench/serving_soak.py instead: --clients clients for --seconds seconds
(bounded; loopback only) of good and bad requests, errors by kind, p50/p99, RSS start/peak/end.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)


def export_bench_model(export_dir: str, kind: str = "mobilenet", image_size: int = 224) -> str:
    """The pushed model's three signatures over a random-weight network:
    "mobilenet" = tf_keras MobileNetV2 (the pipeline's backbone) + a 2-class head,
    "conv" = 4 small strided conv layers."""
    import tensorflow as tf

    from tests.fixtures.serving import export_contract_model

    net = None
    if kind == "mobilenet":
        import tf_keras

        inputs = tf_keras.Input((image_size, image_size, 3))
        base = tf_keras.applications.MobileNetV2(input_shape=(image_size, image_size, 3), include_top=False,
                                                 weights=None, pooling="avg")
        net = tf_keras.Model(inputs, tf_keras.layers.Dense(2, activation="softmax")(base(inputs * 2.0 - 1.0)))
    rng = tf.random.Generator.from_seed(0)
    shapes = [(3, 3, 3, 16), (3, 3, 16, 32), (3, 3, 32, 64), (3, 3, 64, 64)]
    kernels = [tf.Variable(rng.normal(s, stddev=0.1)) for s in shapes]

    def probabilities(module, image_bytes):
        def decode(one):
            image = tf.io.decode_image(one, channels=3, expand_animations=False)
            return tf.image.resize(tf.cast(image, tf.float32) / 255.0, [image_size, image_size])

        x = tf.map_fn(decode, image_bytes, fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))
        if net is not None:
            return net(x, training=False)
        for kernel in module.kernels:
            x = tf.nn.relu(tf.nn.conv2d(x, kernel, strides=2, padding="SAME"))
        return tf.nn.softmax(tf.reduce_mean(x, axis=[1, 2]) @ module.dense)

    trackables = {"kernels": kernels, "dense": tf.Variable(rng.normal((64, 2), stddev=0.1))}
    if net is not None:
        trackables["net"] = net
    return export_contract_model(export_dir, ["blue", "red"], probabilities, **trackables)


def photo_bytes(size: int = 256) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def percentile(samples, p):
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved-model-dir", help="SavedModel version dir or model base dir")
    parser.add_argument("--model", choices=("mobilenet", "conv", "tiny"), default="mobilenet",
                        help="generated model when --saved-model-dir is not given")
    parser.add_argument("--image-size", type=int, default=224, help="input size of generated models")
    parser.add_argument("--image", help="image file to send (default: a random 256x256 JPEG)")
    parser.add_argument("--single", type=int, default=300, help="single-image calls per side")
    parser.add_argument("--batches", type=int, default=20, help="batch-32 calls per side")
    parser.add_argument("--block", type=int, default=25, help="calls per alternating block")
    parser.add_argument("--soak", action="store_true",
                        help="instead: N clients for M seconds, good and bad requests (bench/serving_soak.py)")
    parser.add_argument("--clients", type=int, default=8, help="soak: concurrent clients (at most 64)")
    parser.add_argument("--seconds", type=float, default=60, help="soak: duration (at most 900)")
    args = parser.parse_args()

    import tensorflow as tf

    from serving.grpc_client import GrpcClient
    from tests.fixtures.serving import start_server_process, stop_server_process

    work = tempfile.mkdtemp(prefix="snout-bench-")
    proc = None
    try:
        serving_dir = os.path.join(work, "serving")
        os.makedirs(serving_dir)
        if args.saved_model_dir:
            source = os.path.abspath(args.saved_model_dir)
            if os.path.isfile(os.path.join(source, "saved_model.pb")):
                os.makedirs(os.path.join(serving_dir, "snout"))
                os.symlink(source, os.path.join(serving_dir, "snout", "1"))
            else:
                os.symlink(source, os.path.join(serving_dir, "snout"))
            label = source
        else:
            target = os.path.join(serving_dir, "snout", "1")
            if args.model in ("mobilenet", "conv"):
                export_bench_model(target, args.model, args.image_size)
            else:
                from tests.fixtures.serving import export_fixture_model

                export_fixture_model(target)
            label = f"generated '{args.model}' model"
        versions = sorted(int(v) for v in os.listdir(os.path.join(serving_dir, "snout")) if v.isdigit())
        version_dir = os.path.join(serving_dir, "snout", str(versions[-1]))
        image = open(args.image, "rb").read() if args.image else photo_bytes()
        if args.soak:
            from bench.serving_soak import run_soak

            return run_soak(serving_dir, image, args.clients, args.seconds)

        proc, address, _ = start_server_process(serving_dir, repo=REPO)
        client = GrpcClient(address, timeout=120, retries=0)
        deadline = time.time() + 120
        while True:  # wait until the version is loaded (the server settles new dirs for 1 s)
            try:
                client.predict([image], "snout")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)

        model = tf.saved_model.load(version_dir)
        fn = model.signatures["serving_default"]

        def in_process(images):
            out = fn(image_bytes=tf.constant(images))
            return {k: v.numpy() for k, v in out.items()}

        def over_grpc(images):
            return client.predict(images, "snout").outputs

        single, batch = [image], [image] * 32
        for _ in range(10):
            in_process(single), over_grpc(single)
        in_process(batch), over_grpc(batch)

        def alternate(calls, images, total):
            samples = {"in_process": [], "grpc": []}
            done = 0
            while done < total:
                n = min(args.block, total - done)
                for name, call in calls:
                    for _ in range(n):
                        t = time.perf_counter()
                        call(images)
                        samples[name].append(time.perf_counter() - t)
                done += n
            return samples

        calls = [("in_process", in_process), ("grpc", over_grpc)]
        one = alternate(calls, single, args.single)
        many = alternate(calls, batch, args.batches)

        ms = lambda s: s * 1000.0  # noqa: E731
        p50 = {k: ms(statistics.median(v)) for k, v in one.items()}
        p99 = {k: ms(percentile(v, 99)) for k, v in one.items()}
        throughput = {k: 32 * len(v) / sum(v) for k, v in many.items()}
        print(f"model: {label} (version {versions[-1]}); image {len(image)} bytes; "
              f"server: snout serve (separate process), gRPC {address}")
        print(f"CPU cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
        print(f"single image, {args.single} calls each:")
        print(f"  p50  in-process {p50['in_process']:8.2f} ms   gRPC {p50['grpc']:8.2f} ms   "
              f"ratio {p50['grpc'] / p50['in_process']:.2f}x  (goal <= 1.3x)")
        print(f"  p99  in-process {p99['in_process']:8.2f} ms   gRPC {p99['grpc']:8.2f} ms   "
              f"ratio {p99['grpc'] / p99['in_process']:.2f}x")
        print(f"batches of 32, {args.batches} calls each:")
        print(f"  throughput in-process {throughput['in_process']:8.1f} img/s   gRPC "
              f"{throughput['grpc']:8.1f} img/s   ratio {throughput['grpc'] / throughput['in_process']:.2f}x"
              f"  (goal >= 0.8x)")
        client.close()
        return 0
    finally:
        if proc is not None:
            stop_server_process(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
