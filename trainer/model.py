"""The classifier: a pretrained backbone, frozen, under a new head.

`build_classifier` takes the Keras module as a parameter (see keras_compat.py): the
Tuner calls it with Keras 3, the Trainer with tf_keras, and both get the same network.
"""

from dataclasses import dataclass, asdict
from typing import Any, Dict

from trainer import base_weights
from trainer.backbones import get_backbone
from trainer.features import TRANSFORMED_IMAGE_KEY


@dataclass
class HeadParams:
    """The hyperparameters the Tuner searches (and the Trainer's defaults)."""

    learning_rate: float = 1e-3
    head_units: int = 128
    head_layers: int = 1
    dropout: float = 0.2

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "HeadParams":
        known = {k: values[k] for k in asdict(cls()) if k in values}
        return cls(**known)


def build_classifier(keras, *, num_classes: int, image_size: int, backbone: str, weights: str,
                     head: HeadParams, base=None):
    """Returns (model, base): base frozen, head = GAP -> [Dense relu -> Dropout]*n -> softmax.

    `base` may be passed in to reuse an already-built (and already-loaded) backbone.
    """
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes, got {num_classes}")
    if base is None:
        base = base_weights.build_base(keras, get_backbone(backbone), image_size, weights)
    base.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3), name=TRANSFORMED_IMAGE_KEY)
    # training=False keeps BatchNorm in inference mode even when the base is unfrozen later.
    x = base(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    for i in range(head.head_layers):
        x = keras.layers.Dense(head.head_units, activation="relu", name=f"head_dense_{i}")(x)
        x = keras.layers.Dropout(head.dropout, name=f"head_dropout_{i}")(x)
    # float32 softmax keeps probabilities exact under mixed precision.
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=f"snout_{backbone}")
    compile_classifier(keras, model, head.learning_rate)
    return model, base


def compile_classifier(keras, model, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
