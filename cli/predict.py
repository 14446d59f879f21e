"""`snout predict`: classify photos with a model served by TF Serving (or `snout serve`), over gRPC or REST."""

from __future__ import annotations

import json
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from serving.client_common import DEFAULT_MODEL
from serving.errors import ServerUnreachable, ServingError
from serving.selective import check_min_confidence, is_unsure

import contract
from contract.errors import UserError
from cli.predict_offline import add_arguments as add_offline_arguments, is_offline, predict_offline
from cli.predict_lite import is_lite, predict_lite


def _read_files(paths: Sequence[str]) -> Tuple[List[Tuple[str, bytes]], Dict[str, str]]:
    good, errors = [], {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            errors[path] = f"cannot read: {e.strerror or e}"
            continue
        if contract.image_format(data) is None:
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
            result = self.client.classify(images, a.model, a.version, a.signature or contract.SIGNATURE_CLASSIFY)
            self.version = result.version if result.version is not None else self.version
            return [sorted(row, key=lambda t: -t[1])[:a.top_k] for row in result.rows]
        result = self.client.predict(images, a.model, a.version, a.signature or contract.SIGNATURE_IMAGE_BYTES)
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
            result = self.client.classify(images[:1], self.args.model, key, contract.SIGNATURE_CLASSIFY)
            if result.rows:
                vocabulary = [label for label, _ in result.rows[0]]
        except ServerUnreachable:
            raise
        except ServingError:
            vocabulary = None  # model without a classification signature: top-1 names only
        self._vocabulary[key] = vocabulary
        return vocabulary


def predict_command(args) -> int:
    problem = check_min_confidence(args.min_confidence)
    if problem:
        raise UserError(problem)
    if args.min_confidence is not None and args.format == "kaggle":
        raise UserError("--min-confidence writes `unsure` in the label column, which --format kaggle does not have")
    if is_lite(args):  # a .tflite file: as an app runs it (cli/predict_lite.py)
        return predict_lite(args)
    if is_offline(args):
        return predict_offline(args)
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
                report["results"].append({"file": path, **_selective_label(results[path], args), "top_k": [
                    {"label": label, "score": score} for label, score in results[path]]})
            else:
                report["results"].append({"file": path, "error": errors.get(path, "not predicted")})
        print(json.dumps(report, indent=2))
    else:
        for path in args.files:
            if path in results:
                print(path)
                if args.min_confidence is not None:
                    print(f"  label: {_selective_label(results[path], args)['label']}")
                for label, score in results[path]:
                    print(f"  {label} {score:.4f}")
    for path in args.files:
        if path in errors:
            print(f"snout predict: {path}: {errors[path]}", file=sys.stderr)
    return 1 if errors else 0


def _selective_label(top_k: List[Tuple[str, float]], args) -> Dict[str, str]:
    """With --min-confidence: {"label": the top-1 class, or `unsure` below the threshold}; else {}."""
    if args.min_confidence is None or not top_k:
        return {}
    label, score = top_k[0]
    return {"label": contract.UNSURE_LABEL if is_unsure(score, args.min_confidence) else label}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="classify photos with a TF Serving model over gRPC or REST, or offline with a SavedModel",
        description="Top-k labels for each photo from TF Serving (or `snout serve`); or, with --model naming a "
                    "SavedModel folder, a CSV of predictions for files and folders, computed offline by a Beam job.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="HOST:PORT",
                       help="gRPC address (default localhost:8500)")
    where.add_argument("--rest", metavar="URL", help="REST base URL, e.g. http://localhost:8501")
    p.add_argument("--model", default=DEFAULT_MODEL,
                   help="model name on the server (default snout), or a SavedModel folder or .tflite file: offline "
                        "prediction")
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
    p.add_argument("--min-confidence", type=float, default=None, metavar="P",
                   help="label an image `unsure` when its top probability is below P (0-1; the model's "
                        "probabilities are calibrated, see the report's accuracy-coverage curve); "
                        "the probabilities are kept")
    p.add_argument("--info", action="store_true",
                   help="print the model's versions (GetModelStatus) and signatures (GetModelMetadata)")
    p.add_argument("files", nargs="*", metavar="FILE")
    add_offline_arguments(p)
    p.set_defaults(func=predict_command)
