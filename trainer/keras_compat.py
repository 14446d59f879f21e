"""The one rule for which Keras runs where.

TF 2.16 ships Keras 3 as `tf.keras` unless TF_USE_LEGACY_KERAS=1 is set before
TensorFlow is imported. Two libraries pull in opposite directions:

* tensorflow-transform's TransformFeaturesLayer is a tf_keras (Keras 2) layer, so the
  exported serving model must be tf_keras: Trainer's run_fn uses `training_keras()`.
* keras-tuner 1.4 imports Keras 3 whenever it is installed, whatever the variable
  says, so models it builds and fits must be Keras 3: Tuner's tuner_fn uses
  `tuning_keras()`.

The model builder takes the Keras module as a parameter, so one definition serves
both. Tuning sees the already-transformed images, so it never needs the TFT layer.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def training_keras():
    """Keras 2 (tf_keras): compatible with tensorflow-transform's layer."""
    import tf_keras

    return tf_keras


def tuning_keras():
    """Keras 3: what keras-tuner builds and fits with."""
    import keras

    return keras


def is_keras3(keras_module) -> bool:
    return str(getattr(keras_module, "__version__", "2")).startswith("3")
