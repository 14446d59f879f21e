"""`snout tune`: a head search outside the pipeline, on an ingested dataset.

Uses the Tuner component's own code (trainer/head_search.py) and the Transform's own
decode/resize/scale functions, prints a table of trials, and writes a
best_hyperparameters.txt that `snout run --hyperparameters` imports.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from cli.run import add_config_arguments, config_from_args, prepare_data

BEST_FILE = "best_hyperparameters.txt"


def raw_image_dataset(files, image_size: int, scaling: str, batch_size: int):
    """(scaled images, labels) batches straight from snout TFRecords: Transform's ops, without TFT."""
    import tensorflow as tf

    import contract
    from trainer.preprocessing import preprocess_image

    spec = {contract.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
            contract.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64)}

    def parse(serialized):
        example = tf.io.parse_single_example(serialized, spec)
        return preprocess_image(example[contract.IMAGE_KEY], image_size, scaling), example[contract.LABEL_KEY]

    return (contract.record_dataset(files)
            .map(parse, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size))


def run_search(config, data_dir: str, class_names, out_dir: str, mode: str):
    """Runs the search with the Tuner component's settings (in `mode`); returns (tuner, rows, seconds).
    Trials are judged on the validation split, as in the pipeline."""
    import dataclasses

    import contract
    from trainer import head_search, keras_compat
    from trainer.progress import epoch_progress

    keras = keras_compat.tuning_keras()
    settings = dataclasses.replace(config.tuner_settings(class_names), mode=mode)
    transform = config.transform_settings()  # the images as Transform makes them
    train, evaluate = (raw_image_dataset(contract.split_files(data_dir, split), transform.image_size,
                                         transform.scaling, settings.batch_size)
                       for split in (contract.TRAIN_SPLIT, contract.VALIDATION_SPLIT))
    start = time.time()
    tuner, fit = head_search.prepare_search(keras, settings, train, evaluate, out_dir, "snout_tune")
    tuner.search(epochs=settings.epochs, verbose=0, callbacks=[epoch_progress(keras, "tuner trial")], **fit)
    return tuner, head_search.trials_table(tuner), time.time() - start


def print_table(rows) -> None:
    names = ["trial", "learning_rate", "head_units", "head_layers", "dropout", "val_accuracy", "seconds"]
    print("  ".join(f"{n:>13}" for n in names))
    for row in rows:
        cells = []
        for n in names:
            v = row.get(n)
            cells.append(f"{v:>13.4g}" if isinstance(v, float) else f"{str(v):>13}")
        print("  ".join(cells))


def tune(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    data_dir, class_names, _ = prepare_data(config)
    out_dir = os.path.abspath(args.out or os.path.join(config.workspace, "tuning"))
    os.makedirs(out_dir, exist_ok=True)
    print(f"[snout] tuning the head of {config.backbone} at {config.model_input_size()}px on {data_dir}: "
          f"{config.tuner_algorithm}, {config.tuner_trials} trials x {config.tuner_epochs} epochs, {config.tuner_mode} mode")
    tuner, rows, seconds = run_search(config, data_dir, class_names, os.path.join(out_dir, "trials"), config.tuner_mode)
    print_table(rows)
    from trainer.head_search import best_hyperparameters_json

    # Alone in its folder: TFX's Trainer reads the only file of a HyperParameters artifact.
    best_dir = os.path.join(out_dir, "best_hyperparameters")
    os.makedirs(best_dir, exist_ok=True)
    with open(os.path.join(best_dir, BEST_FILE), "w") as f:
        f.write(best_hyperparameters_json(tuner))
    with open(os.path.join(out_dir, "trials.json"), "w") as f:
        json.dump(rows, f, indent=2, default=str)
    print(f"[snout] {len(rows)} trials in {seconds:.1f}s; best val accuracy {rows[0]['val_accuracy']}")
    print(f"[snout] best hyperparameters: {best_dir}/{BEST_FILE}")
    print(f"[snout] train with them: snout run --data {data_dir} --hyperparameters {best_dir}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("tune", help="KerasTuner head search on a dataset, outside the pipeline",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default=None, help="output folder (default: <workspace>/tuning)")
    add_config_arguments(parser)
    parser.set_defaults(func=tune)
