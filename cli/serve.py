"""`snout serve`: the local TF-Serving-compatible server (gRPC + REST) for development and tests."""

from __future__ import annotations

import os
import signal
import threading
from typing import Dict, Sequence

from serving.client_common import DEFAULT_MODEL

from contract.errors import UserError


def _labels(values: Sequence[str], model_names: Sequence[str]) -> Dict[str, Dict[str, int]]:
    labels: Dict[str, Dict[str, int]] = {}
    for value in values or ():
        try:
            label, version = value.split("=", 1)
            labels.setdefault(model_names[0], {})[label] = int(version)
        except ValueError:
            raise UserError(f"--version-label wants LABEL=VERSION, got {value!r}") from None
    return labels


def _limits(args):
    from serving.limits import RequestLimits

    for flag, value in (("--max-images-per-request", args.max_images_per_request),
                        ("--max-image-pixels", args.max_image_pixels),
                        ("--max-request-bytes", args.max_request_bytes),
                        ("--read-timeout-seconds", args.read_timeout_seconds)):
        if value <= 0:
            raise UserError(f"{flag} must be > 0, got {value}")
    return RequestLimits(max_images=args.max_images_per_request, max_image_pixels=args.max_image_pixels,
                         max_request_bytes=args.max_request_bytes,
                         read_timeout_seconds=args.read_timeout_seconds)


def serve_command(args) -> int:
    from serving.model_config import list_model_dirs

    if not os.path.isdir(args.serving_dir):
        raise UserError(f"--serving-dir {args.serving_dir} is not a directory")
    model_names = args.model_name or [DEFAULT_MODEL]
    if model_names == ["*"]:
        model_names = list_model_dirs(args.serving_dir)
        if not model_names:
            raise UserError(f"no model directories (<model>/<version>/) in {args.serving_dir}")
    if args.poll_seconds <= 0:
        raise UserError("--poll-seconds must be > 0")
    from serving.local_server import LocalServer

    limits = _limits(args)
    server = LocalServer(args.serving_dir, model_names, host=args.host, grpc_port=args.grpc_port,
                         rest_port=args.rest_port, poll_seconds=args.poll_seconds,
                         keep_versions=args.keep_versions,
                         version_labels=_labels(args.version_label, model_names), limits=limits)
    try:
        server.start()
    except OSError as e:
        raise UserError(f"cannot start the server: {e}") from None
    stop = threading.Event()
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread
            pass
    try:
        for name in model_names:
            versions = server.store.loaded_versions(name)
            print(f"model {name}: versions {versions or 'none yet'} from "
                  f"{os.path.join(args.serving_dir, name)}", flush=True)
        print(f"gRPC on {server.grpc_address}  REST on {server.rest_url}  "
              f"(local development server, not TF Serving; Ctrl-C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        print("stopped", flush=True)
    return 0



def register(subparsers) -> None:
    s = subparsers.add_parser(
        "serve", help="local TF-Serving-compatible server (gRPC + REST) for development and tests",
        description="Serve <serving-dir>/<model>/<version>/ SavedModels with TF Serving's gRPC and "
                    "REST APIs, loading new versions as they are pushed. For local use; "
                    "production runs real TF Serving.")
    s.add_argument("--serving-dir", required=True, help="the Pusher's destination directory")
    s.add_argument("--model-name", action="append", default=None,
                   help="model to serve (repeatable; default snout; '*' = every model directory found at start)")
    s.add_argument("--grpc-port", type=int, default=8500)
    s.add_argument("--rest-port", type=int, default=8501)
    s.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    s.add_argument("--poll-seconds", type=float, default=2.0, help="how often to look for new versions")
    s.add_argument("--keep-versions", type=int, default=1,
                   help="newest versions kept loaded (TF Serving's latest policy; 0 = all)")
    s.add_argument("--version-label", action="append", metavar="LABEL=VERSION",
                   help="version label for the (first) model, e.g. stable=3")
    defaults = _default_limits()
    for flag, kind, default, text in (
            ("--max-images-per-request", int, defaults.max_images,
             "rows (images or examples) per request; more is INVALID_ARGUMENT"),
            ("--max-image-pixels", int, defaults.max_image_pixels,
             "width*height an image header may declare, checked before decoding; more is INVALID_ARGUMENT"),
            ("--max-request-bytes", int, defaults.max_request_bytes,
             "gRPC message / REST body size; more is RESOURCE_EXHAUSTED (REST: HTTP 413)"),
            ("--read-timeout-seconds", float, defaults.read_timeout_seconds,
             "REST: drop a client that sends nothing for this long")):
        s.add_argument(flag, type=kind, default=default, help=f"{text} (default {default})")
    s.set_defaults(func=serve_command)


def _default_limits():
    from serving.limits import RequestLimits

    return RequestLimits()


