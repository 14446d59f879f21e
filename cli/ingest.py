"""`snout ingest`: the command-line face of ingest.api.ingest."""

from __future__ import annotations

import argparse
import os
import sys

from contract import MAX_IMAGE_PIXELS
from ingest.image_check import DEFAULT_JPEG_QUALITY
from ingest.layouts import DEFAULT_FILENAME_PATTERN, LAYOUTS
from ingest.split import DEFAULT_TEST_RATIO, DEFAULT_VALIDATION_RATIO
from pipeline.beam_options import BeamOptions

EXAMPLES = """\
layouts:
  snout ingest PetImages --out data/pets                   # PetImages/<class>/*.jpg
  snout ingest --csv labels.csv --image-dir train --label-column breed --out data/dogs
  snout ingest train --layout filenames --out data/catsdogs  # train/cat.123.jpg
then: snout run --data data/pets
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ingest",
        help="convert labelled photos into the image TFRecords `snout run --data` reads",
        description="Validate, normalise, de-duplicate and split a photo collection into sharded "
        "TFRecords (train/validation/test) plus labels.txt and summary.json, with Apache Beam.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", nargs="?", help="input folder (class folders, or the images for --csv / filenames)")
    p.add_argument("--out", required=True, help="output dataset folder")
    p.add_argument("--layout", choices=LAYOUTS,
                   help="default: csv if --csv is given, filenames if --filename-pattern is, else folders")
    g = p.add_argument_group("csv layout")
    g.add_argument("--csv", dest="csv_path", metavar="FILE", help="CSV with one row per image")
    g.add_argument("--image-dir", help="folder holding <id><ext> (same as SOURCE)")
    g.add_argument("--id-column", default="id", help="column with the image id (default: id)")
    g.add_argument("--label-column", help="column with the class (default: label, else breed)")
    g.add_argument("--image-ext", default=".jpg", help="appended to ids without it (default: .jpg)")
    g = p.add_argument_group("filenames layout")
    g.add_argument("--filename-pattern", metavar="REGEX",
                   help=f"regex searched in each base name; its (?P<label>...) group is the class "
                   f"(default: {DEFAULT_FILENAME_PATTERN})")
    g = p.add_argument_group("images")
    g.add_argument("--extensions", help="comma-separated file extensions to open "
                   "(default: jpg,jpeg,jpe,jfif,png,gif,bmp,webp,tif,tiff); other files are ignored")
    g.add_argument("--max-pixels", type=int, default=MAX_IMAGE_PIXELS,
                   help=f"skip images with more pixels as too_large (default: {MAX_IMAGE_PIXELS})")
    g.add_argument("--max-side", type=int, help="re-encode images whose longer side exceeds this")
    g.add_argument("--jpeg-quality", type=int, default=DEFAULT_JPEG_QUALITY,
                   help=f"quality of re-encoded JPEGs (default: {DEFAULT_JPEG_QUALITY})")
    g = p.add_argument_group("split and output")
    g.add_argument("--validation-ratio", type=float, default=DEFAULT_VALIDATION_RATIO,
                   help=f"share of each class for validation (default: {DEFAULT_VALIDATION_RATIO})")
    g.add_argument("--test-ratio", type=float, default=DEFAULT_TEST_RATIO,
                   help=f"share of each class for test (default: {DEFAULT_TEST_RATIO})")
    g.add_argument("--shard-mb", type=float, default=128.0, help="target shard size (default: 128)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace the dataset in --out even if its classes differ")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    BeamOptions.add_arguments(p)
    p.set_defaults(func=run)


def log_dir(args: argparse.Namespace) -> str:
    """`logs/` beside --out, once --out is known to be usable (so a bad one fails before any log is made)."""
    from ingest.output import check_location

    out = check_location(args.out, args.source or args.image_dir)
    return os.path.join(os.path.dirname(out), "logs")


def run(args: argparse.Namespace) -> int:
    from ingest.api import ingest
    from ingest.summary import format_console

    # Local: one thread per core (Pillow's decoders and hashing release the GIL; threads start at once).
    beam_args = BeamOptions.from_args(args).pipeline_args("ingest", mode="multi_threading")
    summary = ingest(
        args.out,
        args.source,
        layout=args.layout,
        csv_path=args.csv_path,
        image_dir=args.image_dir,
        id_column=args.id_column,
        label_column=args.label_column,
        image_ext=args.image_ext,
        filename_pattern=args.filename_pattern,
        extensions=[e.strip() for e in args.extensions.split(",") if e.strip()] if args.extensions else None,
        validation_ratio=args.validation_ratio,
        test_ratio=args.test_ratio,
        max_pixels=args.max_pixels,
        max_side=args.max_side,
        jpeg_quality=args.jpeg_quality,
        shard_mb=args.shard_mb,
        overwrite=args.overwrite,
        beam_args=beam_args,
        progress=not args.no_progress,
    )
    print(format_console(summary, os.path.abspath(args.out)), file=sys.stdout)
    return 0
