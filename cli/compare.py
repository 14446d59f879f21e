"""`snout compare A B [C ...] --out DIR`: runs side by side, and whether each difference is real.

Each argument is a workspace (its newest blessed run, else its newest run), WORKSPACE@ID (one run:
the id of its Trainer or Evaluator execution; `--list` shows them) or a pushed model directory.
"""

from __future__ import annotations

import argparse
import os

from report.compare.grade import DEFAULT_MAX_TEST_IMAGES


def log_dir(args: argparse.Namespace):
    """`logs/` beside --out, after the usage checks (a usage error makes no log); None for --list."""
    from contract.errors import UserError

    if args.list:
        return None
    if not args.out:
        raise UserError("--out DIR is required (where index.html and compare.json go)")
    if len(args.runs) < 2:
        raise UserError("give at least two runs to compare")
    return os.path.join(os.path.dirname(os.path.abspath(args.out)), "logs")


def compare(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args)
    from report.compare import JSON_FILE, PAGE_FILE, write_comparison

    comparison = write_comparison(args.runs, args.out, pipeline_name=args.pipeline_name, workspace=args.workspace,
                                  max_test_images=args.max_test_images, log=lambda line: print(f"[snout] {line}"))
    for pair in comparison.pairs:
        print(f"[snout] {pair.sentence}")
    if args.tensorboard:
        _test_metrics_to_tensorboard(comparison)
    print(f"[snout] compare page: {os.path.join(os.path.abspath(args.out), PAGE_FILE)} "
          f"(numbers in {JSON_FILE} beside it)")
    return 0


def _test_metrics_to_tensorboard(comparison) -> None:
    """Each run's Evaluator test metrics into its HParams session (trainer/hparams.py), for TensorBoard."""
    from contract import evaluation as ev
    from trainer import hparams

    written = set()
    for run in comparison.runs:
        run_dir, m = run.report.model_run_dir, run.report.evaluation
        if not run_dir or m.accuracy is None or run_dir in written:
            continue
        written.add(run_dir)
        if not os.path.isdir(os.path.join(run_dir, hparams.SESSION_DIR)):
            print(f"[snout] {run.label}: no TensorBoard HParams session (trained before snout wrote them)")
            continue
        metrics = {"accuracy": m.accuracy, "example_count": m.example_count}
        if m.top_k_accuracy is not None:
            metrics[ev.TOP_K_ACCURACY] = m.top_k_accuracy
        folder = hparams.write_test_metrics(run_dir, metrics)
        print(f"[snout] {run.label}: test metrics for TensorBoard's HParams dashboard in {folder}")


def _list(args: argparse.Namespace) -> int:
    from report.compare.listing import list_runs

    for workspace in args.runs:
        print(f"[snout] runs in {workspace} (compare one with {workspace}@<Trainer id>):")
        for row in list_runs(workspace, args.pipeline_name):
            accuracy = f"{row['accuracy']:.4f}" if row["accuracy"] is not None else "n/a"
            blessed = {True: "blessed", False: "not blessed", None: "not evaluated"}[row["blessed"]]
            print(f"[snout]   Trainer {row['trainer_execution_id']}  {row['trained']}  {row['backbone']} "
                  f"{row['image_size']}px weights {os.path.basename(str(row['weights']))} epochs {row['epochs']}  "
                  f"test accuracy {accuracy}  {blessed}"
                  + (f" (Evaluator {row['evaluator_execution_id']})" if row["evaluator_execution_id"] else ""))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="runs side by side: settings, curves, test accuracy, a paired test of each difference",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="WORKSPACE, WORKSPACE@ID (Trainer or Evaluator execution id) or a pushed model dir")
    parser.add_argument("--out", default=None, help="output folder: index.html, compare.json, figures")
    parser.add_argument("--workspace", default=None,
                        help="the workspace whose store records a pushed model dir given as RUN "
                             "(default: the nearest folder above it holding metadata.sqlite)")
    parser.add_argument("--pipeline-name", default="snout", help="TFX pipeline name (MLMD context)")
    parser.add_argument("--max-test-images", type=int, default=DEFAULT_MAX_TEST_IMAGES,
                        help="test photos each model is run on for the paired test (a sample by content hash "
                             "beyond this; the table's accuracies are the Evaluator's, on the whole split)")
    parser.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=True,
                        help="write each run's test metrics into its TensorBoard HParams session "
                             "(<model_run>/hparams/test)")
    parser.add_argument("--list", action="store_true", help="list the runs of each WORKSPACE and their ids")
    parser.set_defaults(func=compare)
