"""Training-time augmentation as Keras layers, kept OUT of the exported network.

The layers wrap the classifier only in the model that `fit` sees (see model.py); the
serving SavedModel is built from the bare classifier, so no random op can reach it.
Inputs are already backbone-scaled, so brightness works on the value range of that scaling.
"""

_VALUE_RANGE = {
    "minus_one_to_one": (-1.0, 1.0),
    "zero_to_one": (0.0, 1.0),
    "zero_to_255": (0.0, 255.0),
    "caffe_bgr": (-124.0, 152.0),
}


def augmentation_layers(keras, scaling: str, strength: float, seed: int):
    """Random flip, rotation, zoom, brightness and contrast; None when strength is 0."""
    if strength <= 0:
        return None
    layers = keras.layers
    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(0.05 * strength, seed=seed),  # fraction of a full turn (~18 degrees at 1.0)
        layers.RandomZoom(0.15 * strength, seed=seed),
        layers.RandomBrightness(0.1 * strength, value_range=_VALUE_RANGE[scaling], seed=seed),
        layers.RandomContrast(0.1 * strength, seed=seed),
    ], name="augmentation")
