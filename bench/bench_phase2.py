"""Why does fine-tuning's first epoch fall below where phase 1 ended? Each suspect measured alone.

    bench/bench_phase2.py [--seeds 3]                       # the default run: sample set, 128 px
    bench/bench_phase2.py --breeds 120 --per-class 30       # the breed set at 96 px

Runs the Trainer's own phase 1 (trainer/training.py: cached features, head, copy into the
network) on in-memory data, then, from the same phase-1 weights each time:

1. measures without any weight update the training loss/accuracy that phase 2's first epoch
   would start from under each mode: clean images / live augmentation, head dropout off / on;
2. runs phase 2's first epoch under variants (as configured; learning rate ~0; no live
   augmentation; nothing of the base unfrozen; ...) and prints its training loss/accuracy
   next to phase 1's last epoch.
"""

from __future__ import annotations

import argparse
import os
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trust_data  # noqa: E402

import numpy as np  # noqa: E402

CFG = {"epochs": 5, "batch_size": 32, "fine_tune_layers": 30, "fine_tune_lr_factor": 0.1,
       "fine_tune_epochs": 1, "early_stopping_patience": 3}  # the defaults before issue 22 (now factor 0.01: lr/10 here)


def loss_and_accuracy(model_fn, images, labels, batch_size=64):
    import tensorflow as tf

    losses, hits = [], []
    for start in range(0, len(labels), batch_size):
        p = model_fn(tf.constant(images[start:start + batch_size])).numpy()
        y = labels[start:start + batch_size]
        losses.append(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)))
        hits.append(p.argmax(1) == y)
    return float(np.concatenate(losses).mean()), float(np.concatenate(hits).mean())


def phase1(keras, splits, num_classes, image_size, seed, strength, head_params, cfg):
    import tensorflow as tf

    from trainer import head_choice, training
    from trainer.augmentation import augmentation_layers
    from trainer.model import build_classifier, compile_classifier, with_augmentation

    tf.keras.utils.set_random_seed(seed)
    network = trust_data.network(image_size)
    classifier, base = build_classifier(keras, num_classes=num_classes, network=network, head=head_params)
    augmenter = augmentation_layers(keras, "minus_one_to_one", strength, seed=seed)
    model = with_augmentation(keras, classifier, augmenter)
    if augmenter is not None:
        compile_classifier(keras, model, head_params.learning_rate)
    train_plain = trust_data.batches(*splits["train"], cfg["batch_size"])
    validation = trust_data.batches(*splits["validation"], cfg["batch_size"])
    # No run's shared embeddings here: the features are computed from the base (embeddings_uri "").
    uncached = SimpleNamespace(network=network, embeddings_uri="", augment_strength=strength, seed=seed)
    train_features, validation_features = training.cached_features(keras, base, uncached, train_plain, validation,
                                                                   augmenter)
    fit = head_choice.train_head(keras, train_features, validation_features, num_classes, head_params,
                                 batch_size=cfg["batch_size"], min_epochs=cfg["epochs"],
                                 log_dir=f"/tmp/trust-phase2-logs/{seed}")
    head, history, best = fit.model, fit.history, fit.best_accuracy
    training.copy_head(head, classifier)
    return classifier, base, augmenter, model, history, best


def start_points(classifier, augmenter, splits):
    """Training loss/accuracy of the phase-1 network before any phase-2 step, per mode."""
    x, y = splits["train"]
    rows = {"clean, inference": lambda b: classifier(b, training=False),
            "clean, head dropout on": lambda b: classifier(b, training=True)}
    if augmenter is not None:
        rows["live augmentation, inference"] = lambda b: classifier(augmenter(b, training=True), training=False)
        rows["live augmentation + dropout (= fit)"] = lambda b: classifier(augmenter(b, training=True), training=True)
    return {name: loss_and_accuracy(fn, x, y) for name, fn in rows.items()}


def fine_tune_epoch(keras, classifier, base, augmenter, splits, cfg, lr, layers, live_augmentation, optimizer,
                    seed, epochs=1):
    """Phase-2 epochs as trainer/training.fine_tune runs them, with the variant's changes; per-epoch history."""
    import tensorflow as tf

    from trainer import training
    from trainer.model import with_augmentation

    tf.keras.utils.set_random_seed(seed)
    model = with_augmentation(keras, classifier, augmenter if live_augmentation else None)
    training.unfreeze_top(keras, base, layers)
    opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr, momentum=0.9)
    model.compile(opt, keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    train = trust_data.batches(*splits["train"], cfg["batch_size"], shuffle=True, seed=seed)
    validation = trust_data.batches(*splits["validation"], cfg["batch_size"])
    fit = model.fit(train, validation_data=validation, epochs=epochs, verbose=0)
    base.trainable = False
    return fit.history


def main():
    from trainer import training
    from trainer.keras_compat import training_keras

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breeds", type=int, default=0, help="classes of the breed set (0: the sample set)")
    parser.add_argument("--per-class", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--augment-strength", type=float, default=1.0)
    parser.add_argument("--head-layers", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1, help="phase-2 epochs per variant")
    parser.add_argument("--variants", default="", help="semicolon-separated variant names (default: the first-epoch set)")
    args = parser.parse_args()
    keras = training_keras()
    if args.breeds:
        image_size, num_classes = 96, args.breeds
        splits = trust_data.breed_splits(args.breeds, args.per_class or 30, image_size)
    else:
        image_size, num_classes = 128, 2
        splits = trust_data.sample_splits(image_size, args.per_class or 60)
    print({k: len(v[1]) for k, v in splits.items()})
    head_params = trust_data.head_params(args.head_layers)
    lr = head_params.learning_rate * CFG["fine_tune_lr_factor"]
    variants = {
        "as configured (Adam, live augmentation)": dict(lr=lr, layers=30, live_augmentation=True, optimizer="adam"),
        "Adam at lr/10": dict(lr=lr / 10, layers=30, live_augmentation=True, optimizer="adam"),
        "Adam at lr/10, no live augmentation": dict(lr=lr / 10, layers=30, live_augmentation=False, optimizer="adam"),
        "Adam at lr/100": dict(lr=lr / 100, layers=30, live_augmentation=True, optimizer="adam"),
        "SGD momentum 0.9 at lr/10": dict(lr=lr / 10, layers=30, live_augmentation=True, optimizer="sgd"),
        "SGD momentum 0.9 at 10x lr": dict(lr=lr * 10, layers=30, live_augmentation=True, optimizer="sgd"),
        "SGD momentum 0.9 at 100x lr": dict(lr=lr * 100, layers=30, live_augmentation=True, optimizer="sgd"),
        "learning rate 1e-12 (no learning)": dict(lr=1e-12, layers=30, live_augmentation=True, optimizer="adam"),
        "no live augmentation": dict(lr=lr, layers=30, live_augmentation=False, optimizer="adam"),
        "nothing of the base unfrozen": dict(lr=lr, layers=0, live_augmentation=True, optimizer="adam"),
        "SGD momentum 0.9": dict(lr=lr, layers=30, live_augmentation=True, optimizer="sgd"),
    }
    first_epoch_set = ["as configured (Adam, live augmentation)", "learning rate 1e-12 (no learning)",
                       "no live augmentation", "nothing of the base unfrozen", "SGD momentum 0.9"]
    chosen = args.variants.split(";") if args.variants else first_epoch_set
    variants = {name: variants[name] for name in chosen}
    for seed in range(7, 7 + args.seeds):
        classifier, base, augmenter, _, history, best = phase1(keras, splits, num_classes, image_size, seed,
                                                              args.augment_strength, head_params, CFG)
        print(f"\nseed {seed}: phase 1 last epoch: loss {history['loss'][-1]:.4f} accuracy "
              f"{history['accuracy'][-1]:.3f} ({len(history['loss'])} epochs, best val accuracy {best:.3f})")
        for name, (loss, acc) in start_points(classifier, augmenter, splits).items():
            print(f"  before phase 2, {name:<38} loss {loss:.4f} accuracy {acc:.3f}")
        weights = training.snapshot(classifier)
        for name, spec in variants.items():
            training.restore(weights)
            h = fine_tune_epoch(keras, classifier, base, augmenter, splits, CFG, seed=seed, epochs=args.epochs, **spec)
            for epoch in range(len(h["loss"])):
                print(f"  phase 2 epoch {epoch + 1}, {name:<40} loss {h['loss'][epoch]:.4f} accuracy "
                      f"{h['accuracy'][epoch]:.3f} val accuracy {h['val_accuracy'][epoch]:.3f}", flush=True)
        training.restore(weights)


if __name__ == "__main__":
    main()
