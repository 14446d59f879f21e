"""`ingest()`: photos in one of three layouts -> a snout dataset directory (`snout run --data`)."""

from __future__ import annotations

import json
import os
import time
from typing import List, Optional, Sequence

from ingest import layouts
from ingest.image_check import DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS
from ingest.split import SPLITS, split_ratios
from contract import (
    RECORD_SUFFIX,
    SUMMARY_FILE,
    VOCABULARY_FILE,
    split_files,
    write_vocabulary,
)
from contract.errors import UserError

MANIFEST_FILE = "manifest.tsv"  # split, label, relative path of every written image
SKIPPED_FILE = "skipped.tsv"  # relative path, reason, detail of every skipped file


def list_source(
    source: Optional[str] = None,
    *,
    layout: Optional[str] = None,
    csv_path: Optional[str] = None,
    image_dir: Optional[str] = None,
    id_column: str = "id",
    label_column: Optional[str] = None,
    image_ext: str = ".jpg",
    filename_pattern: Optional[str] = None,
    extensions: Optional[Sequence[str]] = None,
) -> layouts.Listing:
    """Picks the layout (explicit, else csv if a CSV is given, else folders) and lists it."""
    if layout is None:
        layout = layouts.CSV if csv_path else (layouts.FILENAMES if filename_pattern else layouts.FOLDERS)
    if layout not in layouts.LAYOUTS:
        raise UserError(f"unknown layout {layout!r} (choose from {', '.join(layouts.LAYOUTS)})")
    if layout == layouts.CSV:
        if not csv_path:
            raise UserError("the csv layout needs --csv FILE")
        if image_dir and source and os.path.abspath(image_dir) != os.path.abspath(source):
            raise UserError(f"give the image folder once: SOURCE {source} or --image-dir {image_dir}")
        image_dir = image_dir or source
        if not image_dir:
            raise UserError("--csv needs --image-dir DIR, the folder of <id><ext> images")
        return layouts.list_csv(csv_path, image_dir, id_column, label_column, image_ext, extensions)
    if csv_path:
        raise UserError(f"--csv only applies to the csv layout, not {layout}")
    source = source or image_dir
    if not source:
        raise UserError("no input folder given")
    if layout == layouts.FILENAMES:
        return layouts.list_filename_labels(
            source, filename_pattern or layouts.DEFAULT_FILENAME_PATTERN, extensions
        )
    if filename_pattern:
        raise UserError("--filename-pattern only applies to the filenames layout")
    return layouts.list_class_folders(source, extensions)


def _read_existing_vocabulary(out_dir: str) -> Optional[List[str]]:
    path = os.path.join(out_dir, VOCABULARY_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def _prepare_output(out_dir: str, input_root: str, class_names: List[str], overwrite: bool) -> None:
    """Refuses outputs that would corrupt something, then removes only our own old files."""
    if not out_dir:
        raise UserError("no output folder given (--out)")
    real_out, real_in = os.path.realpath(out_dir), os.path.realpath(input_root)
    if real_out == real_in or real_out.startswith(real_in + os.sep):
        raise UserError(f"--out {out_dir} is inside the input folder {input_root}; put it elsewhere")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UserError(f"--out {out_dir} exists and is not a folder")
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        old = _read_existing_vocabulary(out_dir)
        is_dataset = old is not None or os.path.isfile(os.path.join(out_dir, SUMMARY_FILE))
        if not is_dataset and not overwrite:
            raise UserError(
                f"--out {out_dir} is not empty and holds no snout dataset; "
                "choose an empty folder or pass --overwrite"
            )
        if old is not None and old != class_names and not overwrite:
            raise UserError(
                f"{os.path.join(out_dir, VOCABULARY_FILE)} lists classes {old} but the input has "
                f"{class_names}: class indices would change meaning; use a new --out or pass --overwrite"
            )
    # summary.json goes first and is written last: its presence marks a finished ingest.
    for name in (SUMMARY_FILE, VOCABULARY_FILE, MANIFEST_FILE, SKIPPED_FILE):
        path = os.path.join(out_dir, name)
        if os.path.isfile(path):
            os.remove(path)
    for split in SPLITS:  # stale shards would silently join the new dataset
        for path in split_files(out_dir, split):
            os.remove(path)
    os.makedirs(out_dir, exist_ok=True)


def _write_tsv(path: str, rows) -> None:
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
        for row in rows:
            f.write("\t".join(str(c).replace("\t", " ").replace("\n", " ") for c in row) + "\n")


def ingest(
    out_dir: str,
    source: Optional[str] = None,
    *,
    eval_ratio: float = 0.2,
    test_ratio: float = 0.0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: Optional[int] = None,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    shard_mb: float = 128.0,
    overwrite: bool = False,
    beam_args: Optional[Sequence[str]] = None,
    progress: bool = False,
    **listing_options,
) -> dict:
    """Converts a photo collection to `<out_dir>/{train,eval,test}/*.tfrecord.gz` + labels.txt.

    `listing_options` pick and configure the layout (layout, csv_path, image_dir, id_column,
    label_column, image_ext, filename_pattern, extensions): see `list_source`.
    Returns the summary also written to `<out_dir>/summary.json`. Raises UserError (one line)
    for bad arguments or when no image at all could be used.
    """
    start = time.monotonic()
    try:
        ratios = split_ratios(eval_ratio, test_ratio)
    except ValueError as e:
        raise UserError(str(e)) from e
    if max_pixels < 1:
        raise UserError(f"--max-pixels must be >= 1, got {max_pixels}")
    if max_side is not None and max_side < 1:
        raise UserError(f"--max-side must be >= 1, got {max_side}")
    if not 1 <= jpeg_quality <= 100:
        raise UserError(f"--jpeg-quality must be in 1..100, got {jpeg_quality}")
    if shard_mb <= 0:
        raise UserError(f"--shard-mb must be > 0, got {shard_mb}")

    listing = list_source(source, **listing_options)
    class_names = listing.class_names
    _prepare_output(out_dir, listing.root, class_names, overwrite)

    # Imported here: Beam takes seconds to import and `snout --help` should not wait for it.
    from ingest import beam_pipeline, summary as summary_mod
    from ingest.process import Settings

    settings = Settings(ratios, max_pixels, max_side, jpeg_quality)
    report = beam_pipeline.run(
        listing.items, class_names, settings, out_dir, shard_mb, list(beam_args or []), progress
    )

    write_vocabulary(out_dir, class_names)
    _write_tsv(os.path.join(out_dir, MANIFEST_FILE), sorted(tuple(m) for m in report["manifest"]))
    all_skips = sorted(
        [tuple(s) for s in listing.skipped] + [tuple(s) for s in report["skipped"]]
    )
    _write_tsv(os.path.join(out_dir, SKIPPED_FILE), all_skips)
    record_files = {s: [os.path.relpath(p, out_dir) for p in split_files(out_dir, s)] for s in SPLITS}
    record_bytes = {
        s: sum(os.path.getsize(os.path.join(out_dir, p)) for p in files)
        for s, files in record_files.items()
    }
    result = summary_mod.build(
        layout=listing.layout,
        source=listing.source,
        class_names=class_names,
        report=report,
        listing_skips=listing.skipped,
        listed_files=len(listing.items) + len(listing.skipped),
        ignored_files=listing.ignored,
        ratios=ratios,
        settings={
            "max_pixels": max_pixels,
            "max_side": max_side,
            "jpeg_quality": jpeg_quality,
            "reencode_format": "JPEG",
            "record_suffix": RECORD_SUFFIX,
            "shards": report["shards"],
        },
        record_bytes=record_bytes,
        record_files=record_files,
        seconds=time.monotonic() - start,
    )
    with open(os.path.join(out_dir, SUMMARY_FILE), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    if result["totals"]["all"] == 0:
        raise UserError(
            f"none of the {len(listing.items)} listed images could be used "
            f"(skipped: {', '.join(f'{r} {n}' for r, n in result['skipped'].items() if n)}); "
            f"see {os.path.join(out_dir, SKIPPED_FILE)}"
        )
    return result
