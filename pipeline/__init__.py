"""snout's pipeline: configuration, the one TFX DAG, its runners (local, Kubeflow) and Beam profiles."""
