"""The classifier: a backbone (pretrained and frozen, or the small CNN from scratch) under a new head.

Every builder takes the Keras module as a parameter (see keras_compat.py): the Tuner
calls them with Keras 3, the Trainer with tf_keras, and both get the same network.
"""

from trainer import base_weights, hub_backbone
from trainer.backbones import HUB, build_small_cnn, get_backbone
from trainer.settings import HeadParams, Network
from contract import TRANSFORMED_IMAGE_KEY


def build_base(keras, network: Network):
    spec = get_backbone(network.backbone)
    if spec.name == HUB:
        return hub_backbone.build_base(keras, network.hub_handle, network.image_size)
    if spec.application is None:
        return build_small_cnn(keras, network.image_size)
    return base_weights.build_base(keras, spec, network.image_size, network.weights)


def add_head(keras, features, num_classes: int, head: HeadParams):
    """[Dense relu -> Dropout] x head_layers -> softmax, on pooled features."""
    x = features
    for i in range(head.head_layers):
        x = keras.layers.Dense(head.head_units, activation="relu", name=f"head_dense_{i}")(x)
        x = keras.layers.Dropout(head.dropout, name=f"head_dropout_{i}")(x)
    # float32 softmax keeps probabilities exact under mixed precision.
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)


def build_classifier(keras, *, num_classes: int, network: Network, head: HeadParams, base=None):
    """Returns (classifier, base): image_xf -> base -> GlobalAveragePooling -> head.

    A pretrained base is frozen and always called with training=False, so its BatchNorm
    layers stay in inference mode even when phase 2 unfreezes its top.
    """
    if num_classes < 2:
        raise ValueError(f"need at least 2 classes, got {num_classes}")
    spec = get_backbone(network.backbone)
    if base is None:
        base = build_base(keras, network)
    base.trainable = not spec.pretrained
    size = network.image_size
    inputs = keras.Input(shape=(size, size, 3), name=TRANSFORMED_IMAGE_KEY)
    x = base(inputs, training=False) if spec.pretrained else base(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    if not spec.pretrained:
        x = keras.layers.Dropout(0.5, name="cnn_dropout")(x)  # the from-scratch baseline overfits fast
    model = keras.Model(inputs, add_head(keras, x, num_classes, head), name=f"snout_{network.backbone}")
    compile_classifier(keras, model, head.learning_rate)
    return model, base


# A step of the head on cached features is a few small matrix products: Keras' per-step Python overhead
# dominated it (20 epochs of 4,000 features: 17.6-23.3 s one step per call, 11.1-11.4 s at 64, same weights).
HEAD_STEPS_PER_EXECUTION = 64


def build_head_on_features(keras, feature_dim: int, num_classes: int, head: HeadParams):
    """The same head on cached pooled base outputs (tuning on embeddings)."""
    inputs = keras.Input(shape=(feature_dim,), name="pooled_features")
    model = keras.Model(inputs, add_head(keras, inputs, num_classes, head), name="snout_head")
    compile_classifier(keras, model, head.learning_rate, steps_per_execution=HEAD_STEPS_PER_EXECUTION)
    return model


def with_augmentation(keras, classifier, augmenter):
    """The model `fit` trains: augmenter -> classifier (shared weights). Export uses `classifier`."""
    if augmenter is None:
        return classifier
    inputs = keras.Input(shape=classifier.input_shape[1:], name=TRANSFORMED_IMAGE_KEY)
    model = keras.Model(inputs, classifier(augmenter(inputs)), name=f"{classifier.name}_training")
    return model


def compile_classifier(keras, model, learning_rate: float, steps_per_execution: int = 1) -> None:
    """Adam on sparse cross-entropy. `steps_per_execution` runs that many batches per compiled call: the
    same updates in the same order, with less Python between them."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=steps_per_execution,
    )
