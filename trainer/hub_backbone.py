"""`--backbone hub`: a TF Hub image feature-vector module (a URL or a local SavedModel folder) as the base.

The module maps images [N, H, W, 3] to features [N, D]. Its input size and scaling come from
flags, else from the module (a fixed input shape in its call signature), else from the
handle's documented name (TF Hub's `..._224` convention); scaling defaults to TF Hub's image
convention, [0, 1]. The Trainer (tf_keras) wraps it in tensorflow-hub's KerasLayer, frozen in
phase 1 and fine-tuned as a whole in phase 2 when the module has trainable variables. Keras 3
(the Tuner) cannot hold a tf_keras layer, so there the module is called directly by a small
Keras 3 layer, frozen: the Tuner only searches the head. A handle that cannot be had stops the
run naming it; nothing falls back to another base.
"""

import contextlib
import functools
import os
import re
import sys
import types
from dataclasses import dataclass

from trainer.base_weights import WeightsUnavailable

# Documented input sizes of TF Hub families whose handle names do not end in _<size>.
_DOCUMENTED_SIZES = {"inception_v3": 299, "inception_resnet_v2": 299, "efficientnet/b0": 224,
                     "efficientnet/b1": 240, "efficientnet/b2": 260, "efficientnet/b3": 300,
                     "efficientnet/b4": 380, "efficientnet/b5": 456, "efficientnet/b6": 528,
                     "efficientnet/b7": 600, "resnet_v1_50": 224, "resnet_v2_50": 224}


class HubModuleUnavailable(WeightsUnavailable):
    """The TF Hub handle could not be downloaded or read."""


@dataclass(frozen=True)
class HubModule:
    handle: str
    path: str              # the local SavedModel folder (TF Hub's cache for a URL)
    declared_size: int     # fixed input size in the module's call signature, 0 if any size
    documented_size: int   # size in the handle's documented name, 0 if none
    trainable_variables: int
    variables: int
    digest: str            # of saved_model.pb and the variables index: a changed module is a new cache key

    def input_size(self, flag: int, fallback: int) -> int:
        return flag or self.declared_size or self.documented_size or fallback


@contextlib.contextmanager
def _pkg_resources_for_hub_import():
    """tensorflow_hub's __init__ checks TF's version with pkg_resources.parse_version, which
    setuptools 84 (pinned for the user-code wheel build) no longer ships: lend it that one
    function for the import only."""
    if "pkg_resources" in sys.modules or _has_module("pkg_resources"):
        yield
        return
    from packaging.version import parse

    sys.modules["pkg_resources"] = types.SimpleNamespace(parse_version=parse)
    try:
        yield
    finally:
        sys.modules.pop("pkg_resources", None)


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def tensorflow_hub():
    try:
        with _pkg_resources_for_hub_import():
            import tensorflow_hub as hub
    except ImportError as e:  # 0.15 (tfx's pin) imports tf.estimator, which TF 2.16 no longer has
        raise HubModuleUnavailable(f"--backbone hub needs tensorflow-hub 0.16.1 (./setup.sh installs it with "
                                   f"--no-deps); importing tensorflow_hub failed: {e}") from e
    return hub


def resolve(handle: str) -> str:
    """The local folder of `handle`, downloading a URL into TF Hub's cache; HubModuleUnavailable if not."""
    if os.path.isdir(handle):
        if not os.path.isfile(os.path.join(handle, "saved_model.pb")):
            raise HubModuleUnavailable(f"--hub-handle {handle}: the folder holds no saved_model.pb")
        return handle
    if "://" not in handle:
        raise HubModuleUnavailable(f"--hub-handle {handle}: no such folder, and not a URL")
    hub = tensorflow_hub()
    try:
        return hub.resolve(handle)
    except Exception as e:  # urllib/HTTP/tarfile errors: all mean the module cannot be had
        reason = " ".join(str(e).split())  # one line
        raise HubModuleUnavailable(
            f"TF Hub handle {handle} could not be downloaded ({type(e).__name__}: {reason}); download it "
            "where there is internet and pass its local folder as --hub-handle") from e


def _digest(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name in ("saved_model.pb", os.path.join("variables", "variables.index")):
        if os.path.isfile(os.path.join(path, name)):
            with open(os.path.join(path, name), "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:16]


def _declared_size(loaded) -> int:
    call = getattr(loaded, "__call__", None)
    for function in getattr(call, "concrete_functions", []):
        args = function.structured_input_signature[0]
        shape = getattr(args[0], "shape", None) if args else None
        if shape is not None and shape.rank == 4 and shape[1] and shape[1] == shape[2]:
            return int(shape[1])
    return 0


def documented_size(handle: str) -> int:
    name = handle.lower().replace("-", "_")
    for family, size in _DOCUMENTED_SIZES.items():
        if family in name.replace("feature_vector", ""):
            return size
    match = re.search(r"_(\d{2,3})(?:/|$)", name)
    return int(match.group(1)) if match else 0


@functools.lru_cache(maxsize=8)
def inspect_module(handle: str) -> HubModule:
    """Downloads (once) and reads `handle`: its input size and what phase 2 could fine-tune."""
    import tensorflow as tf

    path = resolve(handle)
    try:
        loaded = tf.saved_model.load(path)
    except Exception as e:
        raise HubModuleUnavailable(f"TF Hub handle {handle} is not a loadable SavedModel "
                                   f"({type(e).__name__}: {' '.join(str(e).split())})") from e
    if not callable(loaded):
        raise HubModuleUnavailable(f"TF Hub handle {handle} is not callable: snout needs a TF2 image "
                                   "feature-vector module (images [N, H, W, 3] -> features [N, D])")
    return HubModule(handle=handle, path=path, declared_size=_declared_size(loaded),
                     documented_size=documented_size(handle),
                     trainable_variables=len(getattr(loaded, "trainable_variables", [])),
                     variables=len(getattr(loaded, "variables", [])), digest=_digest(path))


def _keras3_features_layer(keras, path: str):
    """The frozen module as a Keras 3 layer (the Tuner's Keras): a plain call of the loaded SavedModel."""
    import tensorflow as tf

    tensorflow_hub()  # imports the package the way its __init__ needs (see above)
    from tensorflow_hub.keras_layer import func_has_training_argument

    class HubFeatures(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(trainable=False, **kwargs)
            self._module = tf.saved_model.load(path)
            self._takes_training = func_has_training_argument(self._module)

        def call(self, images):
            return self._module(images, training=False) if self._takes_training else self._module(images)

    return HubFeatures(name="hub_module")


def build_base(keras, handle: str, image_size: int):
    """images [N, size, size, 3] -> features shaped [N, 1, 1, D], frozen.

    A 1x1 feature map, so the head's global average pooling (the same for every backbone)
    passes the features through unchanged.
    """
    from trainer.keras_compat import is_keras3

    path = resolve(handle)
    if is_keras3(keras):
        module = _keras3_features_layer(keras, path)
    else:
        # float32 whatever the global policy: a SavedModel's dtypes are fixed when it is saved.
        module = tensorflow_hub().KerasLayer(path, trainable=False, dtype="float32", name="hub_module")
    inputs = keras.Input(shape=(image_size, image_size, 3), name="hub_images")
    features = module(inputs)
    as_map = keras.layers.Reshape((1, 1, features.shape[-1]), name="hub_features_as_map")(features)
    return keras.Model(inputs, as_map, name="hub_base")
