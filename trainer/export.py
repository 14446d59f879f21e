"""Exports the trained network as a TF Serving SavedModel with three signatures.

  serving_default     image_bytes: string[None] (raw JPEG/PNG; REST {"b64": ...})
  serving_tf_example  examples: string[None] serialized tf.Example (what TFMA feeds)
  classification      inputs: string[None] tf.Example -> classes, scores (Classify API)

All three run the same TFT graph through one TransformFeaturesLayer, and:
- compute in float32 whatever the training policy (mixed_float16 on GPU): a mixed-precision
  network is exported as a float32 copy with the same weights;
- refuse, before decoding, an image whose header declares more than `max_image_pixels`
  pixels (trainer/image_guard.py), so real TF Serving is protected too;
- ship TF Serving warm-up requests (assets.extra/tf_serving_warmup_requests, trainer/warmup.py).

Beside the signatures, `pixels_to_probabilities` (a tf.function attribute): uint8 pixels -> the same
network call, which the edge export converts to TFLite (components/lite_export).

That one network call applies the temperature fitted on validation (trainer/calibration.py), so
every signature, the TFLite files and `snout serve` give calibrated probabilities. A second saved
function, `class_activation_maps` (trainer/gradcam.py), gives the report Grad-CAM maps of the
same network; neither function is a signature, so TF Serving never sees them.
"""

import json
import os
from typing import List, Optional

import tensorflow as tf

from contract.saved_model import mark_classify_signature
import contract
from contract import lite as lite_contract
from trainer.backbones import scale_pixels
from trainer.calibration import tempered_tf
from trainer.gradcam import class_activation_maps_fn
from trainer.image_guard import refuse_oversized_images
from trainer.warmup import write_warmup_requests


class _ServingModule(tf.Module):
    """What gets saved: the network's variables, the TFT graph's resources and three signatures.

    Neither Keras object is an attribute, only what they hold: saving a Keras model or layer
    also saves a traced function per layer (~650 for MobileNetV2), and the TFT layer is a Keras
    layer too, whose serialization traced its call again with autograph (profiled: most of the
    export, and seconds on every load: TFMA, infra validation, the report). So the module keeps
    the network's variables and the TFT layer's loaded SavedModel (its graph, tables, assets:
    what the layer itself tracks for saving), and calls both through untracked lambdas.
    """

    def __init__(self, model, tft_layer):
        super().__init__()
        self.network_variables = list(model.variables)
        self.tft_resources = tft_layer._saved_model_loader.__dict__  # noqa: SLF001 - what TFT tracks
        self._call_network = lambda x: model(x, training=False)  # a lambda is not tracked
        self._call_tft = lambda features: tft_layer(features)


def _nested_layers(model):
    return [layer for layer in model.submodules if hasattr(layer, "dtype_policy")]


def _float32_config(config):
    """The Keras config with every mixed-precision dtype policy replaced by float32."""
    if isinstance(config, dict):
        if config.get("class_name") in ("Policy", "DTypePolicy") and str(
                config.get("config", {}).get("name", "")).startswith("mixed"):
            return "float32"
        return {key: _float32_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float32_config(value) for value in config]
    return config


def float32_network(model):
    """`model` if it computes in float32; else a float32 copy with the same weights.

    Under mixed_float16 (GPU training) layers compute in float16; the exported graph would
    carry that half-precision arithmetic to CPU serving (slow there, and less exact).
    """
    if all(layer.dtype_policy.compute_dtype == "float32" for layer in _nested_layers(model)):
        return model
    from trainer import keras_compat

    keras = keras_compat.training_keras()
    custom_objects = {type(layer).__name__: type(layer) for layer in _nested_layers(model)}
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        copy = model.__class__.from_config(_float32_config(model.get_config()), custom_objects=custom_objects)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    copy.set_weights(model.get_weights())
    return copy


def _add_pixels_function(module, network_probabilities, scaling: str, height: int, width: int) -> None:
    """module.pixels_to_probabilities: uint8 RGB [N, H, W, 3] -> the backbone's scaling -> the network call
    the signatures use. A tf.function attribute, not a signature: the edge export (components/lite_export)
    converts it, so decoding and resizing stay outside, as on a phone."""
    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None, height, width, 3], tf.uint8, name="pixels")])
    def pixels_to_probabilities(pixels):
        return network_probabilities(scale_pixels(tf, tf.cast(pixels, tf.float32), scaling))

    setattr(module, lite_contract.PIXELS_FUNCTION, pixels_to_probabilities)


def _add_class_activation_function(module, network, raw_image_features) -> None:
    """module.class_activation_maps: (image bytes [N], class index [N]) -> Grad-CAM maps [N, h, w], when the
    base has spatial maps (trainer/gradcam.py); the report calls it on its mistakes."""
    maps = class_activation_maps_fn(network)
    if maps is None:
        return

    @tf.function(autograph=False,  # as the signatures: nothing branches on a tensor (a static layer loop)
                 input_signature=[tf.TensorSpec([None], tf.string, name=contract.SERVING_IMAGE_INPUT),
                                  tf.TensorSpec([None], tf.int64, name="class_index")])
    def class_activation_maps(image_bytes, class_index):
        transformed = module._call_tft(raw_image_features(image_bytes))
        return maps(transformed[contract.TRANSFORMED_IMAGE_KEY], class_index)

    setattr(module, contract.CLASS_ACTIVATION_FUNCTION, class_activation_maps)


def export_serving_model(model, tf_transform_output, class_names: List[str], export_dir: str,
                         provenance: dict, max_image_pixels: int = contract.MAX_IMAGE_PIXELS,
                         input_scaling: Optional[str] = None, temperature: float = 1.0) -> None:
    """input_scaling (the backbone's, trainer/backbones.py): also save module.pixels_to_probabilities.
    temperature: the network's probabilities are softmax(log p / temperature) in every path."""
    class_table = tf.constant(list(class_names))
    network = float32_network(model)
    module = _ServingModule(network, tf_transform_output.transform_features_layer())
    # The raw schema (SchemaGen, infer_feature_shape) gives `image` shape [1] or [].
    image_spec = tf_transform_output.raw_feature_spec()[contract.IMAGE_KEY]
    image_rank_one = list(image_spec.shape) == [1]

    # The signatures are traced without autograph (no Python control flow on tensors here, and converting
    # every Keras layer's call made tracing the network for the export take seconds per signature).
    def raw_image_features(image_bytes):
        image_bytes = refuse_oversized_images(image_bytes, max_image_pixels)
        return {contract.IMAGE_KEY: tf.reshape(image_bytes, [-1, 1]) if image_rank_one else image_bytes}

    def network_probabilities(images):  # the one network call: the signatures and pixels_to_probabilities
        probabilities = module._call_network(images)
        return probabilities if temperature == 1.0 else tempered_tf(tf, probabilities, temperature)

    def predict_from_raw(raw_features):
        transformed = module._call_tft(raw_features)
        probabilities = network_probabilities(transformed[contract.TRANSFORMED_IMAGE_KEY])
        class_index = tf.argmax(probabilities, axis=-1)
        return {
            contract.OUTPUT_PROBABILITIES: probabilities,
            contract.OUTPUT_CLASS_INDEX: class_index,
            contract.OUTPUT_CLASS_NAME: tf.gather(class_table, class_index),
        }

    def parse_examples(serialized):
        return tf.io.parse_example(serialized, {contract.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string)})[
            contract.IMAGE_KEY]

    # The network and the TFT graph are traced once, in this function; each signature calls it.
    @tf.function(autograph=False, input_signature=[tf.TensorSpec([None], tf.string)])
    def predict_image_bytes(image_bytes):
        return predict_from_raw(raw_image_features(image_bytes))

    @tf.function(autograph=False,
                 input_signature=[tf.TensorSpec([None], tf.string, name=contract.SERVING_IMAGE_INPUT)])
    def serve_image_bytes(image_bytes):
        return predict_image_bytes(image_bytes)

    @tf.function(autograph=False,
                 input_signature=[tf.TensorSpec([None], tf.string, name=contract.SERVING_EXAMPLES_INPUT)])
    def serve_tf_example(examples):
        return predict_image_bytes(parse_examples(examples))

    @tf.function(autograph=False,
                 input_signature=[tf.TensorSpec([None], tf.string, name=contract.CLASSIFY_INPUT)])
    def classify(inputs):
        probabilities = predict_image_bytes(parse_examples(inputs))[contract.OUTPUT_PROBABILITIES]
        batch = tf.shape(probabilities)[0]
        classes = tf.tile(tf.expand_dims(class_table, 0), [batch, 1])
        return {contract.CLASSIFY_OUTPUT_CLASSES: classes, contract.CLASSIFY_OUTPUT_SCORES: probabilities}

    signatures = {
        contract.SIGNATURE_IMAGE_BYTES: serve_image_bytes.get_concrete_function(),
        contract.SIGNATURE_TF_EXAMPLE: serve_tf_example.get_concrete_function(),
        contract.SIGNATURE_CLASSIFY: classify.get_concrete_function(),
    }
    if input_scaling:
        _add_pixels_function(module, network_probabilities, input_scaling, *model.input_shape[1:3])
        provenance = dict(provenance, **{lite_contract.INPUT_SCALING_KEY: input_scaling})
    _add_class_activation_function(module, network, raw_image_features)
    provenance = dict(provenance, temperature=float(temperature))
    tf.saved_model.save(module, export_dir, signatures=signatures)
    mark_classify_signature(export_dir, contract.SIGNATURE_CLASSIFY)  # TF Serving's Classify API needs it
    # assets.extra is copied by TF Serving tooling but never loaded as part of the graph.
    write_warmup_requests(export_dir)
    extra = os.path.join(export_dir, contract.MODEL_EXTRA_DIR)
    provenance = dict(provenance, max_image_pixels=int(max_image_pixels))
    with tf.io.gfile.GFile(os.path.join(extra, contract.VOCABULARY_FILE), "w") as f:
        f.write("".join(n + "\n" for n in class_names))
    with tf.io.gfile.GFile(os.path.join(extra, contract.MODEL_INFO_FILE), "w") as f:
        f.write(json.dumps(provenance, indent=2, sort_keys=True))
