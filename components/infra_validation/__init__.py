"""Infra validation before the push: is the candidate servable? (InfraBlessing for the Pusher)

- component.py / executor.py / probe.py: SavedModelInfraValidator, for where no model server
  runs (local runs, Vertex AI): a fresh TensorFlow-only process loads the model and calls
  every signature on real images.
- tf_serving.py: TFX's InfraValidator with TF Serving 2.16.1 on Kubernetes (Kubeflow Pipelines).
"""
