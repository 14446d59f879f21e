"""Which devices train: MirroredStrategy over the GPUs present, else the CPU.

The same code path runs everywhere (a one-replica MirroredStrategy on a CPU-only
machine), so the multi-GPU path is exercised by every CPU test too.
"""

import tensorflow as tf


def training_strategy(keras):
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        strategy = tf.distribute.MirroredStrategy()
        # float16 compute with float32 variables: ~2x on tensor-core GPUs, no accuracy cost
        # for a softmax head kept in float32 (see model.py).
        keras.mixed_precision.set_global_policy("mixed_float16")
        used = [g.name for g in gpus]
    else:
        strategy = tf.distribute.MirroredStrategy(devices=["/cpu:0"])
        keras.mixed_precision.set_global_policy("float32")
        used = ["/cpu:0"]
    print(f"[snout] training on {strategy.num_replicas_in_sync} replica(s): {', '.join(used)}"
          + (" (mixed precision)" if gpus else " (no GPU found; float32 on CPU)"))
    return strategy
