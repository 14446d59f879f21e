"""Serving side of snout: TF Serving layout helpers, a local TF-Serving-compatible
server (`snout serve`) and gRPC/REST clients (`snout predict`).

The client modules (grpc_client, rest_client, protos, tensors) do not import
TensorFlow; the server modules (model_store, grpc_server, rest_server) do.
"""
