"""Edge export after the Trainer: the trained network as two LiteRT (TFLite) files, checked against the SavedModel.

- component.py: LiteExport (Model + Examples in, LiteModel out) and LitePusher (after the Pusher: copies
  the variants that passed to <serving_dir>/<model>-lite/<version>/, the SavedModel's version).
- conversion.py: TensorFlow's converter on the SavedModel's pixels_to_probabilities (float16 / full int8).
- metadata.py: TFLite Model Metadata (labels as an associated file, the input's normalization).
- parity.py: each variant in LiteRT's interpreter on the test split vs the SavedModel; the push rule.
- latency.py (+ latency_probe.py): single-thread latency per image, the SavedModel's beside it.
- executor.py / push.py: the two executors. settings.py: LiteSettings.
"""
