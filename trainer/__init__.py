"""snout's user code for TFX: Transform's preprocessing_fn, Tuner's tuner_fn, Trainer's run_fn.

Everything TFX packages for Transform/Tuner/Trainer lives in this folder: TFX hashes
every .py file here into the user-code wheel, so a change to any of them (and to
nothing else) invalidates those components' cache. Keep unrelated files out.
"""
