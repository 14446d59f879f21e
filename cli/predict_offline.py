"""`snout predict --model DIR`: classify files or folders with a SavedModel, no server (serving/batch_predict.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import List, Optional

from contract.errors import UserError
from pipeline.beam_options import BeamOptions


def saved_model_dir(path: str) -> Optional[str]:
    """`path` if it is a SavedModel, the newest `<path>/<version>/` if it is a TF Serving model base, else None."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = [int(v) for v in os.listdir(path) if v.isdigit()] if os.path.isdir(path) else []
    for version in sorted(versions, reverse=True):
        candidate = os.path.join(path, str(version))
        if os.path.isfile(os.path.join(candidate, "saved_model.pb")):
            return candidate
    return None


def add_arguments(parser) -> None:
    o = parser.add_argument_group("offline, with --model DIR (a SavedModel or <serving_dir>/<model>): a Beam job")
    o.add_argument("--input-dir", action="append", default=[], metavar="DIR",
                   help="folder of images to classify, read recursively (repeatable; FILEs may be given too)")
    o.add_argument("--out", default="predictions.csv", help="CSV to write (default predictions.csv)")
    o.add_argument("--format", choices=("snout", "kaggle"), default="snout",
                   help="snout: id,label,confidence,<one column per class>; kaggle: id,<one column per class>")
    BeamOptions.add_arguments(parser)


def is_offline(args) -> bool:
    return not (args.server or args.rest) and saved_model_dir(args.model) is not None


def _beam_args(args) -> List[str]:
    # Local: in-process. TensorFlow already spreads one model call over every core; worker processes
    # would each load TF and the model and fight for the same cores (bench_batch_predict.py).
    return BeamOptions.from_args(args).pipeline_args("predict", mode="in_memory")


def predict_offline(args) -> int:
    from serving import batch_predict

    model_dir = saved_model_dir(args.model)
    if args.batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    try:
        class_names = batch_predict.model_class_names(model_dir)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(f"--model {model_dir}: no class names beside the model ({e})") from None
    inputs, skipped = batch_predict.list_inputs([*args.input_dir, *args.files])
    if not inputs and not skipped:
        raise UserError("give images to classify: --input-dir DIR and/or FILEs")
    beam_args = _beam_args(args)
    out = os.path.abspath(args.out)
    print(f"[snout] classifying {len(inputs)} files with {model_dir} ({len(class_names)} classes), "
          f"Beam {' '.join(beam_args)}")
    work_dir = tempfile.mkdtemp(prefix=".snout-predict-", dir=os.path.dirname(out))
    start = time.time()
    try:
        pattern = batch_predict.run(model_dir, [path for _, path in inputs], beam_args, work_dir, args.batch_size)
        by_path, refused = batch_predict.read_results(pattern)
        skipped += refused
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    predictions = {file_id: by_path[path] for file_id, path in inputs if path in by_path}
    return write_results(out, predictions, class_names, args.format, time.time() - start, skipped,
                         args.min_confidence)


def write_results(out: str, predictions: dict, class_names, fmt: str, seconds: float, skipped,
                  min_confidence=None) -> int:
    """The CSV (`unsure` below min_confidence) and its skip list, each said in a line; exit 1 when a file was
    skipped."""
    from serving import batch_predict

    seconds = max(seconds, 1e-9)
    rows = batch_predict.write_csv(out, predictions, class_names, fmt, min_confidence)
    print(f"[snout] {rows} images -> {out} ({fmt} format) in {seconds:.1f}s, {rows / seconds:.1f} img/s")
    if skipped:
        listing = os.path.splitext(out)[0] + "-skipped.tsv"
        with open(listing, "w") as f:
            f.write("".join(f"{path}\t{reason}\n" for path, reason in sorted(skipped)))
        print(f"[snout] {len(skipped)} files skipped (not readable images), listed in {listing}")
    return 1 if skipped else 0
