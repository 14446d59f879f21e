"""Grad-CAM (Selvaraju et al., 2017) on the base's last convolutional block: where the network looked.

For class c, the gradient of its logit z_c with respect to the base's output feature maps A
(the last convolutional block, [h, w, k]) is averaged over the h x w positions into one weight
per channel; the map is relu(sum_k weight_k * A_k), scaled to [0, 1] per image. The exported
model carries it as a plain saved function beside the signatures (trainer/export.py), so the
report draws heatmaps of the very network that was evaluated, without rebuilding it.

The classifier is the chain model.py builds: input -> base -> pooling -> head -> a last Dense
layer; its logits are that layer's kernel and bias applied to what reaches it, whatever its
activation. A base without spatial output (a TF Hub feature vector) has no maps: None.
"""

from __future__ import annotations


def _chain(network):
    """(base, the layers after it up to the last one, the last Dense layer), or None if not a conv chain."""
    layers = [layer for layer in network.layers if type(layer).__name__ != "InputLayer"]
    if len(layers) < 3:
        return None
    base, tail, last = layers[0], layers[1:-1], layers[-1]
    try:
        shape = base.output_shape
    except (AttributeError, RuntimeError):  # e.g. a TF Hub layer that reports no output shape
        shape = None
    if not (isinstance(shape, tuple) and len(shape) == 4) or not hasattr(last, "kernel"):
        return None
    return base, tail, last


def class_activation_maps_fn(network):
    """f(images [N, H, W, 3] as the base takes them, class_index [N]) -> maps [N, h, w] in [0, 1], or None."""
    chain = _chain(network)
    if chain is None:
        return None
    base, tail, last = chain

    import tensorflow as tf

    def maps(images, class_index):
        with tf.GradientTape() as tape:
            features = base(images, training=False)
            tape.watch(features)
            x = features
            for layer in tail:
                x = layer(x, training=False)
            logits = tf.matmul(tf.cast(x, tf.float32), tf.cast(last.kernel, tf.float32)) + tf.cast(last.bias,
                                                                                                     tf.float32)
            score = tf.gather(logits, tf.cast(class_index, tf.int32), axis=1, batch_dims=1)
        grads = tf.cast(tape.gradient(score, features), tf.float32)
        weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, tf.float32), axis=-1))
        peak = tf.reduce_max(cam, axis=[1, 2], keepdims=True)
        return tf.math.divide_no_nan(cam, peak)

    return maps
