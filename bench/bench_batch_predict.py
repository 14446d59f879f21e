"""Offline bulk prediction (`snout predict --model`, a Beam RunInference job) next to a plain
loop calling the same SavedModel, in the same run, on the same files.

    .venv/bin/python bench/bench_batch_predict.py --model snout_workspace/serving/snout [--images N]
        [--batch-size 32] [--beam-arg=--direct_num_workers=2 ...]

It copies N of the model's sample photos (or makes N JPEGs) into a temporary folder. Both
sides read every file, and both times include loading the model once per process: the loop
is what a user would write without snout; the Beam job adds its checks, process start-up and
the CSV. Prints images/s of each and their ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.bench_ingest import make_photos  # noqa: E402


def plain_loop(model_dir: str, files, batch_size: int) -> int:
    import tensorflow as tf

    import contract

    signature = tf.saved_model.load(model_dir).signatures[contract.SIGNATURE_IMAGE_BYTES]
    done = 0
    for start in range(0, len(files), batch_size):
        batch = []
        for path in files[start:start + batch_size]:
            with open(path, "rb") as f:
                batch.append(f.read())
        outputs = signature(**{contract.SERVING_IMAGE_INPUT: tf.constant(batch)})
        done += int(outputs[contract.OUTPUT_PROBABILITIES].shape[0])
    return done


def beam_job(model_dir: str, folder: str, out: str, batch_size: int, beam_args) -> int:
    from cli.main import main

    argv = ["predict", "--model", model_dir, "--input-dir", folder, "--out", out,
            "--batch-size", str(batch_size), *[f"--beam-arg={a}" for a in beam_args]]
    if main(argv) != 0:
        raise SystemExit("snout predict reported skipped files or failed")
    with open(out) as f:
        return sum(1 for _ in f) - 1


def main() -> None:
    from cli.predict_offline import saved_model_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a SavedModel, or <serving_dir>/<model> (newest version)")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beam-arg", action="append", default=[])
    args = parser.parse_args()
    model_dir = saved_model_dir(args.model)
    if model_dir is None:
        raise SystemExit(f"--model {args.model}: no SavedModel there")
    with tempfile.TemporaryDirectory(prefix="snout-bench-predict-") as tmp:
        folder = os.path.join(tmp, "images")
        make_photos(folder, args.images)
        files = sorted(os.path.join(d, n) for d, _, names in os.walk(folder) for n in names)
        start = time.time()
        loop_count = plain_loop(model_dir, files, args.batch_size)
        loop_seconds = time.time() - start
        start = time.time()
        beam_count = beam_job(model_dir, folder, os.path.join(tmp, "predictions.csv"), args.batch_size,
                              args.beam_arg)
        beam_seconds = time.time() - start
    loop_rate, beam_rate = loop_count / loop_seconds, beam_count / beam_seconds
    print(f"plain SavedModel loop: {loop_count} images in {loop_seconds:.1f}s = {loop_rate:.1f} img/s")
    print(f"snout predict --model (Beam RunInference): {beam_count} images in {beam_seconds:.1f}s = "
          f"{beam_rate:.1f} img/s")
    print(f"ratio Beam / loop: {beam_rate / loop_rate:.2f}x")


if __name__ == "__main__":
    main()
