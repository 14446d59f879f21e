"""`snout predict` (gRPC/REST client) and `snout serve` (local TF-Serving-compatible server)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Dict, List, Optional, Sequence, Tuple

from serving.client_common import (CLASSIFY_SIGNATURE, DEFAULT_MODEL, PREDICT_SIGNATURE,
                                   image_format)
from serving.errors import ServerUnreachable, ServingError

try:
    from pipeline.errors import UserError
except ImportError:  # pragma: no cover - serving used without the pipeline package
    class UserError(Exception):
        pass


# ---------------------------------------------------------------- predict

def _read_files(paths: Sequence[str]) -> Tuple[List[Tuple[str, bytes]], Dict[str, str]]:
    good, errors = [], {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            errors[path] = f"cannot read: {e.strerror or e}"
            continue
        if image_format(data) is None:
            errors[path] = "not an image (JPEG, PNG, GIF or BMP expected)"
            continue
        good.append((path, data))
    return good, errors


def _make_client(args):
    if args.rest:
        from serving.rest_client import RestClient

        return RestClient(args.rest, timeout=args.timeout, retries=args.retries)
    from serving.grpc_client import GrpcClient

    return GrpcClient(args.server or "localhost:8500", timeout=args.timeout, retries=args.retries)


def _where(args) -> str:
    return args.rest if args.rest else (args.server or "localhost:8500")


def _fatal(e: ServingError, args) -> UserError:
    """Errors that stop the whole run, as one line."""
    if isinstance(e, ServerUnreachable):
        return UserError(e.message)
    spec = args.model + (f" version {args.version}" if args.version is not None else "")
    if e.code == "NOT_FOUND":
        return UserError(f"model {spec} not found on TF Serving at {_where(args)}: {e.message}")
    return UserError(f"TF Serving at {_where(args)} refused the request for model {spec}: "
                     f"{e.code}: {e.message}")


class _Predictor:
    """Top-k (label, score) per image through either API and either transport."""

    def __init__(self, client, args):
        self.client, self.args = client, args
        self._vocabulary: Dict[Optional[int], Optional[List[str]]] = {}
        self.version: Optional[int] = args.version

    def run(self, images: List[bytes]) -> List[List[Tuple[str, float]]]:
        a = self.args
        if a.api == "classify":
            result = self.client.classify(images, a.model, a.version, a.signature or CLASSIFY_SIGNATURE)
            self.version = result.version if result.version is not None else self.version
            return [sorted(row, key=lambda t: -t[1])[:a.top_k] for row in result.rows]
        result = self.client.predict(images, a.model, a.version, a.signature or PREDICT_SIGNATURE)
        self.version = result.version if result.version is not None else self.version
        out = result.outputs
        if "probabilities" not in out:
            raise ServingError("FAILED_PRECONDITION", "the signature has no 'probabilities' output "
                               f"(outputs: {sorted(out)})")
        vocabulary = self._labels(images, result.version)
        rows = []
        for i, probs in enumerate(out["probabilities"]):
            top = sorted(range(len(probs)), key=lambda j: -float(probs[j]))[:a.top_k]
            names = {}
            if "class_index" in out and "class_name" in out:
                names[int(out["class_index"][i])] = str(out["class_name"][i])
            rows.append([((vocabulary[j] if vocabulary else names.get(j, f"class_{j}")),
                          float(probs[j])) for j in top])
        return rows

    def _labels(self, images: List[bytes], version: Optional[int]) -> Optional[List[str]]:
        """All class names in index order, learnt once per version from the
        classification signature (Classify's classes row is the model's label table)."""
        key = version if version is not None else self.args.version
        if key in self._vocabulary:
            return self._vocabulary[key]
        vocabulary = None
        try:
            result = self.client.classify(images[:1], self.args.model, key, CLASSIFY_SIGNATURE)
            if result.rows:
                vocabulary = [label for label, _ in result.rows[0]]
        except ServerUnreachable:
            raise
        except ServingError:
            vocabulary = None  # model without a classification signature: top-1 names only
        self._vocabulary[key] = vocabulary
        return vocabulary


def predict_command(args) -> int:
    if args.top_k < 1 or args.batch_size < 1 or args.timeout <= 0 or args.retries < 0:
        raise UserError("--top-k and --batch-size must be >= 1, --timeout > 0, --retries >= 0")
    if not args.files and not args.info:
        raise UserError("give at least one image file (or --info)")
    client = _make_client(args)
    try:
        if args.info:
            try:
                info = client.model_info(args.model, args.version)
            except ServingError as e:
                raise _fatal(e, args) from None
            if args.json:
                print(json.dumps({"model": args.model, "versions": info.versions,
                                  "signatures": info.signatures}, indent=2))
            else:
                for version, state in info.versions:
                    print(f"{args.model} version {version}: {state}")
                for name, sig in sorted(info.signatures.items()):
                    if name.startswith("__"):
                        continue
                    print(f"signature {name} ({sig['method_name']}): inputs {sig['inputs']} "
                          f"-> outputs {sig['outputs']}")
            if not args.files:
                return 0
        return _predict_files(client, args)
    finally:
        client.close()


# INVALID_ARGUMENT messages about the request itself (not about one image): stop the run.
_REQUEST_LEVEL_ERRORS = ("Serving signature key", "input tensor alias", "Request inputs do not match",
                         "Expected classification signature", "Classification signature must",
                         "Unrecognized servable version label", "Expects arg[")


def _predict_files(client, args) -> int:
    good, errors = _read_files(args.files)
    predictor = _Predictor(client, args)
    results: Dict[str, List[Tuple[str, float]]] = {}

    def run_batch(batch):
        try:
            rows = predictor.run([data for _, data in batch])
            results.update({path: row for (path, _), row in zip(batch, rows)})
        except ServingError as e:
            if (isinstance(e, ServerUnreachable) or e.code != "INVALID_ARGUMENT"
                    or e.message.startswith(_REQUEST_LEVEL_ERRORS)):
                raise _fatal(e, args) from None
            if len(batch) == 1:
                errors[batch[0][0]] = f"rejected by the model: {e.message}"
                return
            for item in batch:  # find which file(s) the model refused
                run_batch([item])

    for start in range(0, len(good), args.batch_size):
        run_batch(good[start:start + args.batch_size])

    if args.json:
        if predictor.version is None and results:  # REST answers do not name the version
            try:
                available = [v for v, state in client.model_info(args.model, None, False).versions
                             if state == "AVAILABLE"]
                predictor.version = max(available) if available else None
            except ServingError:
                pass
        report = {"model": args.model, "version": predictor.version, "results": []}
        for path in args.files:
            if path in results:
                report["results"].append({"file": path, "top_k": [
                    {"label": label, "score": score} for label, score in results[path]]})
            else:
                report["results"].append({"file": path, "error": errors.get(path, "not predicted")})
        print(json.dumps(report, indent=2))
    else:
        for path in args.files:
            if path in results:
                print(path)
                for label, score in results[path]:
                    print(f"  {label} {score:.4f}")
    for path in args.files:
        if path in errors:
            print(f"snout predict: {path}: {errors[path]}", file=sys.stderr)
    return 1 if errors else 0


# ---------------------------------------------------------------- serve

def _labels(values: Sequence[str], model_names: Sequence[str]) -> Dict[str, Dict[str, int]]:
    labels: Dict[str, Dict[str, int]] = {}
    for value in values or ():
        try:
            label, version = value.split("=", 1)
            labels.setdefault(model_names[0], {})[label] = int(version)
        except ValueError:
            raise UserError(f"--version-label wants LABEL=VERSION, got {value!r}") from None
    return labels


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

    server = LocalServer(args.serving_dir, model_names, host=args.host, grpc_port=args.grpc_port,
                         rest_port=args.rest_port, poll_seconds=args.poll_seconds,
                         keep_versions=args.keep_versions,
                         version_labels=_labels(args.version_label, model_names))
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


# ---------------------------------------------------------------- registration

def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="classify photos with a TF Serving model over gRPC or REST",
        description="Top-k labels for each photo from TF Serving (or `snout serve`).")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="HOST:PORT",
                       help="gRPC address (default localhost:8500)")
    where.add_argument("--rest", metavar="URL", help="REST base URL, e.g. http://localhost:8501")
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name (default snout)")
    p.add_argument("--version", type=int, default=None, help="model version (default: latest)")
    p.add_argument("--signature", default=None,
                   help="signature (default serving_default, or classification with --api classify)")
    p.add_argument("--api", choices=("predict", "classify"), default="predict")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32, help="images per request")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    p.add_argument("--retries", type=int, default=2,
                   help="retries on UNAVAILABLE/DEADLINE_EXCEEDED, connection errors and 5xx")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--info", action="store_true",
                   help="print the model's versions (GetModelStatus) and signatures (GetModelMetadata)")
    p.add_argument("files", nargs="*", metavar="FILE")
    p.set_defaults(func=predict_command)

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
    s.set_defaults(func=serve_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snout", description="snout serving commands")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    from pipeline.cli import run_command

    return run_command(build_parser(), argv)
