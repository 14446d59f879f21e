"""`snout report [TARGET]`: the HTML report of the newest evaluated run."""

from __future__ import annotations

import argparse

from report.predictions import DEFAULT_MAX_IMAGES


def report(args: argparse.Namespace) -> int:
    from report import write_report

    path = write_report(args.target or args.workspace, output_dir=args.output, pipeline_name=args.pipeline_name,
                        max_images=args.max_images, predictions=args.predictions)
    print(f"[snout] report: {path}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="write an HTML report of the last run (curves, confusion matrix, mistakes, gate)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("target", nargs="?", default=None,
                        help="workspace dir, its pipeline_root, or a metadata.sqlite (default: --workspace)")
    parser.add_argument("--workspace", default="snout_workspace", help="workspace of `snout run`")
    parser.add_argument("--pipeline-name", default="snout", help="TFX pipeline name (MLMD context)")
    parser.add_argument("--output", default=None, help="output folder (default: <workspace>/report)")
    parser.add_argument("--max-images", type=int, default=DEFAULT_MAX_IMAGES,
                        help="eval graded (test) images the model is run on for the mistakes grid and top-k charts")
    parser.add_argument("--predictions", action=argparse.BooleanOptionalAction, default=True,
                        help="run the model on graded images (grids, top-k); --no-predictions skips it")
    parser.set_defaults(func=report)
