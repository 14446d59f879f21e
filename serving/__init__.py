"""Serving side of snout: TF Serving layout helpers, a local TF-Serving-compatible
server (`snout serve`) and gRPC/REST clients (`snout predict`).

The client modules (grpc_client, rest_client, protos, tensors) do not import
TensorFlow; the server modules do: model_store (versions), inference (Predict/Classify),
limits (per-request bounds), grpc_server, and REST in three: rest_json (JSON <-> tensors),
rest_api (routes), rest_server (HTTP transport).
"""
