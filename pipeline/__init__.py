"""snout's pipeline: configuration, the TFX DAG, its runners and the `snout` command."""

import os

# Quiet TensorFlow's C++ INFO chatter; warnings and errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
import trainer.keras_compat  # noqa: E402,F401  (the one place TF_USE_LEGACY_KERAS is set)
