"""`ingest()`: photos in one of three layouts -> a snout dataset directory (`snout run --data`)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from typing import Optional, Sequence

from contract import MAX_IMAGE_PIXELS, RECORD_SUFFIX, SUMMARY_FILE, split_files, write_vocabulary
from contract.errors import UserError
from ingest import layouts, output
from ingest.image_check import DEFAULT_JPEG_QUALITY
from ingest.output import IGNORED_FILE, MANIFEST_FILE, SKIPPED_FILE
from ingest.split import DEFAULT_TEST_RATIO, DEFAULT_VALIDATION_RATIO, SPLITS, split_ratios

SPILL_DIR = ".spill"  # inside the staging folder; removed before the swap


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


def _check_settings(validation_ratio, test_ratio, max_pixels, max_side, jpeg_quality, shard_mb):
    try:
        ratios = split_ratios(validation_ratio, test_ratio)
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
    return ratios


def ingest(
    out_dir: str,
    source: Optional[str] = None,
    *,
    validation_ratio: float = DEFAULT_VALIDATION_RATIO,
    test_ratio: float = DEFAULT_TEST_RATIO,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: Optional[int] = None,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    shard_mb: float = 128.0,
    overwrite: bool = False,
    beam_args: Optional[Sequence[str]] = None,
    progress: bool = False,
    **listing_options,
) -> dict:
    """Converts a photo collection to `<out_dir>/{train,validation,test}/*.tfrecord` + labels.txt.

    `listing_options` pick and configure the layout (layout, csv_path, image_dir, id_column, label_column, image_ext,
    filename_pattern, extensions): see `list_source`. The dataset is built beside `out_dir`
    and replaces it only when complete. Returns the summary also written to
    `<out_dir>/summary.json`. Raises UserError (one line) for bad arguments or when no image
    at all could be used (then `out_dir` is left as it was).
    """
    start = time.monotonic()
    ratios = _check_settings(validation_ratio, test_ratio, max_pixels, max_side, jpeg_quality, shard_mb)
    listing = list_source(source, **listing_options)
    out = output.check_location(out_dir, listing.root)
    output.check_replaceable(out, listing.class_names, overwrite)

    staging = output.make_staging(out)
    try:
        summary = _build(listing, ratios, staging, out, start, max_pixels=max_pixels, max_side=max_side,
                         jpeg_quality=jpeg_quality, shard_mb=shard_mb, beam_args=beam_args, progress=progress)
        output.swap_in(staging, out)
    except BaseException:
        output.discard(staging)
        raise
    return summary


def _build(listing: layouts.Listing, ratios, staging: str, out: str, start: float, *, max_pixels,
           max_side, jpeg_quality, shard_mb, beam_args, progress) -> dict:
    """Runs Beam, places and writes the records, then labels.txt, the lists and summary.json."""
    # Imported here: Beam takes seconds to import and `snout --help` should not wait for it.
    from ingest import beam_pipeline, placement, summary as summary_mod, tsv
    from ingest.process import Settings

    class_names = listing.class_names
    spill_dir = os.path.join(staging, SPILL_DIR)
    settings = Settings(max_pixels, max_side, jpeg_quality)
    facts = beam_pipeline.run(listing.items, class_names, settings, spill_dir, list(beam_args or []), progress)
    placed = placement.place(listing.items, facts, class_names, ratios, spill_dir, staging, shard_mb)
    shutil.rmtree(spill_dir)

    skipped = sorted(list(listing.skipped) + placed.skipped)
    if not placed.manifest:
        counts = Counter(reason for _, reason, _ in skipped)
        raise UserError(
            f"none of the {len(listing.items)} listed images could be used "
            f"(skipped: {', '.join(f'{r} {n}' for r, n in sorted(counts.items()))}); {out} is unchanged"
        )
    write_vocabulary(staging, class_names)
    tsv.write(os.path.join(staging, MANIFEST_FILE), sorted(placed.manifest))
    tsv.write(os.path.join(staging, SKIPPED_FILE), skipped)
    tsv.write(os.path.join(staging, IGNORED_FILE), sorted(listing.ignored))
    record_files = {s: [os.path.relpath(p, staging) for p in split_files(staging, s)] for s in SPLITS}
    record_bytes = {
        s: sum(os.path.getsize(os.path.join(staging, p)) for p in files) for s, files in record_files.items()
    }
    result = summary_mod.build(
        layout=listing.layout,
        source=listing.source,
        class_names=class_names,
        placement=placed,
        skipped=skipped,
        ignored=listing.ignored,
        listed_files=len(listing.items) + len(listing.skipped),
        ratios=ratios,
        settings={
            "max_pixels": max_pixels,
            "max_side": max_side,
            "jpeg_quality": jpeg_quality,
            "reencode_format": "JPEG",
            "record_suffix": RECORD_SUFFIX,
            "shards": placed.shards,
        },
        record_bytes=record_bytes,
        record_files=record_files,
        seconds=time.monotonic() - start,
    )
    with open(os.path.join(staging, SUMMARY_FILE), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return result
