"""The edge export of a finished `snout run`, measured against its targets in one run (issue 19).

    .venv/bin/python bench/bench_lite.py [--workspace snout_workspace] [--runs 200]

Reads the newest LiteExport of the workspace (MLMD): its model.tflite (float16 weights),
model_int8.tflite, the SavedModel it was converted from and the test split the Evaluator graded.
Converts a float32-weight model.tflite too (the choice float16 had to match), then:
- size: model_int8.tflite vs the SavedModel's variables/ (target <= 0.35x);
- latency: batch 1, one thread, every model timed in turn per round in one fresh process (so load
  changes hit all alike), the fastest of --runs rounds (the cost without the shared machine's other load;
  the median is printed too); int8 vs the float TFLite model (target <= 0.7x), the SavedModel's network beside;
- agreement: top-1 agreement with the SavedModel on the test split, each file fed as an app would
  (bilinear uint8), the SavedModel on its own graded path (target >= 0.98); and, for a finer measure
  than the sample set's 24 test images, on --fresh N newly drawn sample images (another seed, never seen
  in training), where the SavedModel's own network fed the app's resize shows what the resize alone costs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SIZE_TARGET, LATENCY_TARGET, AGREEMENT_TARGET = 0.35, 0.7, 0.98


def _inputs(workspace: str):
    """(lite folder, SavedModel dir, Examples artifact) of the workspace's newest LiteExport."""
    from report.lineage import Lineage, latest_artifact, open_store
    from contract import lite as lite_contract

    store = open_store(os.path.abspath(os.path.join(workspace, "metadata.sqlite")))
    lite = latest_artifact(store, lite_contract.LITE_MODEL_TYPE, "snout")
    if lite is None:
        raise SystemExit(f"{workspace}: no LiteExport output; run `snout run --workspace {workspace}` first")
    execution = Lineage(store).producer(lite)
    model, examples = (Lineage(store).first_input(execution, key) for key in ("model", "examples"))
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Examples()
    artifact.set_mlmd_artifact(examples)
    return lite.uri, os.path.join(model.uri, "Format-Serving"), artifact


def _fresh_agreement(loaded, files: dict, count: int, height: int, width: int) -> dict:
    """Top-1 agreement with the SavedModel's serving_default on `count` newly drawn sample images: of its
    own network on an app's resize (the resize alone), and of each TFLite file."""
    import io
    import random

    import numpy as np
    import tensorflow as tf

    import contract
    import sample_data
    from components.lite_export import parity
    from serving.lite_predict import LiteClassifier, app_pixels

    rng, images = random.Random(20261201), []
    for i in range(count):
        buffer = io.BytesIO()
        sample_data.draw_face(sample_data.CLASS_NAMES[i % 2], rng).save(buffer, format="JPEG", quality=90)
        images.append(buffer.getvalue())
    signature = loaded.signatures[contract.SIGNATURE_IMAGE_BYTES]
    reference = np.concatenate([signature(**{contract.SERVING_IMAGE_INPUT: tf.constant(images[i:i + 32])})
                                [contract.OUTPUT_PROBABILITIES].numpy() for i in range(0, count, 32)]).argmax(axis=1)
    pixels = np.stack([app_pixels(image, height, width) for image in images])
    from contract import lite as lite_contract

    predicted = {"app resize only": parity.pixels_probabilities(getattr(loaded, lite_contract.PIXELS_FUNCTION), pixels)}
    predicted.update({name: parity.interpreter_probabilities(LiteClassifier(path), pixels)
                      for name, path in files.items()})
    return {name: float(np.mean(p.argmax(axis=1) == reference)) for name, p in predicted.items()}


def _verdict(value: float, target: float, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    return f"target {'<=' if at_most else '>='} {target}: {'met' if met else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="snout_workspace")
    parser.add_argument("--runs", type=int, default=200, help="timed rounds (each times every model once)")
    parser.add_argument("--fresh", type=int, default=400, help="newly drawn sample images for the agreement")
    args = parser.parse_args()

    import numpy as np

    from contract import lite as lite_contract
    from components.lite_export import conversion, examples, latency, parity
    from components.lite_export.executor import variables_bytes
    from serving.lite_predict import LiteClassifier, app_pixels

    lite_dir, model_dir, data = _inputs(args.workspace)
    print(f"[bench_lite] load: {open('/proc/loadavg').read().split()[:3]} (1/5/15 min) on {os.cpu_count()} cores")
    loaded, concrete, height, width = conversion.pixels_function(model_dir)
    files = {"float16": os.path.join(lite_dir, lite_contract.FLOAT_FILE),
             "int8": os.path.join(lite_dir, lite_contract.INT8_FILE)}
    with tempfile.TemporaryDirectory(prefix="bench-lite-") as tmp:
        files["float32"] = os.path.join(tmp, "model_float32.tflite")
        with open(files["float32"], "wb") as f:
            f.write(conversion.convert_float(loaded, concrete, "float32"))
        records = examples.split_records(data, "test")
        images, labels = examples.images_and_labels(records)
        pixels = np.stack([app_pixels(image, height, width) for image in images])
        reference = parity.saved_model_probabilities(loaded, records)
        agreement = {name: parity.compare(reference, parity.interpreter_probabilities(LiteClassifier(path), pixels),
                                          labels) for name, path in files.items()}
        fresh = _fresh_agreement(loaded, files, args.fresh, height, width)
        with latency.LatencyProbe(model_dir, args.runs, timeout_seconds=1800) as probe:
            timings = probe.measure(files, pixels[0])
        sizes = {name: os.path.getsize(path) for name, path in files.items()}
    if "error" in timings:
        raise SystemExit(timings["error"])
    variables = variables_bytes(model_dir)
    print(f"[bench_lite] {lite_dir}: {height}x{width} input, test split of {len(labels)} examples, "
          f"SavedModel accuracy {np.mean(reference.argmax(axis=1) == labels):.4f}")
    for name in ("float32", "float16", "int8"):
        a = agreement[name]
        print(f"[bench_lite]   {name:8s} {sizes[name] / 1e6:6.2f} MB  accuracy {a['accuracy']:.4f}  agreement "
              f"{a['agreement']:.4f}  latency min {timings[name]:6.2f} ms  median {timings['median'][name]:6.2f} ms")
    print(f"[bench_lite]   SavedModel variables {variables / 1e6:.2f} MB, network latency min "
          f"{timings['saved_model']:.2f} ms, median {timings['median']['saved_model']:.2f} ms (1 thread)")
    size_ratio = sizes["int8"] / variables
    min_ratio, median_ratio = (timings["int8"] / timings["float16"],
                               timings["median"]["int8"] / timings["median"]["float16"])
    print(f"[bench_lite] size: int8 {size_ratio:.3f}x the SavedModel's variables ({_verdict(size_ratio, SIZE_TARGET, True)})")
    print(f"[bench_lite] latency: int8 {min_ratio:.3f}x model.tflite (float16) by the fastest call "
          f"({_verdict(min_ratio, LATENCY_TARGET, True)}), {median_ratio:.3f}x by median; float16 "
          f"{timings['float16'] / timings['float32']:.3f}x float32")
    print(f"[bench_lite] on {args.fresh} fresh sample images vs the SavedModel's serving_default: "
          + ", ".join(f"{name} agreement {value:.4f}" for name, value in fresh.items()))
    worst = min(agreement["float16"]["agreement"], agreement["int8"]["agreement"])
    print(f"[bench_lite] agreement with the SavedModel: float16 {agreement['float16']['agreement']:.4f}, int8 "
          f"{agreement['int8']['agreement']:.4f} ({_verdict(worst, AGREEMENT_TARGET, False)}); float32 "
          f"{agreement['float32']['agreement']:.4f}")


if __name__ == "__main__":
    main()
