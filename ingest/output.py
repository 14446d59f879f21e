"""The output folder: checked before any work, built in a temporary sibling, swapped in whole.

A failed or interrupted run leaves the previous dataset in --out exactly as it was; the
temporary sibling (`.<name>.ingest-*`) is removed on failure (a killed run may leave one).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import List, Optional

from contract import OLD_LAYOUT_EVAL_DIR, SUMMARY_FILE, VOCABULARY_FILE, read_vocabulary
from contract.errors import UserError
from ingest.split import SPLITS

MANIFEST_FILE = "manifest.tsv"  # split, label, relative path of every written image
SKIPPED_FILE = "skipped.tsv"  # relative path, reason, detail of every skipped file
IGNORED_FILE = "ignored.tsv"  # relative path, reason of every path never opened
DATASET_ENTRIES = frozenset(
    {VOCABULARY_FILE, SUMMARY_FILE, MANIFEST_FILE, SKIPPED_FILE, IGNORED_FILE, OLD_LAYOUT_EVAL_DIR, *SPLITS}
)


def _nearest_existing(path: str) -> str:
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_location(out_dir: str, input_root: Optional[str]) -> str:
    """One-line errors for an --out that cannot work; returns its absolute path."""
    if not out_dir:
        raise UserError("no output folder given (--out)")
    out = os.path.abspath(out_dir)
    real_out = os.path.realpath(out)
    real_in = os.path.realpath(input_root) if input_root else None
    if real_in and (real_out == real_in or real_out.startswith(real_in + os.sep)):
        raise UserError(f"--out {out_dir} is inside the input folder {input_root}; put it elsewhere")
    if os.path.dirname(out) == out:
        raise UserError(f"--out {out_dir} is a filesystem root; name a folder below it")
    existing = _nearest_existing(out)
    if existing == out and not os.path.isdir(out):
        raise UserError(f"--out {out_dir} exists and is not a folder")
    if existing != out and not os.path.isdir(existing):
        raise UserError(f"--out {out_dir} is below {existing}, which is a file, not a folder")
    writable = existing if existing != out else os.path.dirname(out)
    if not os.access(writable, os.W_OK | os.X_OK):
        raise UserError(f"--out {out_dir}: cannot write in {writable} (permission denied)")
    return out


def _existing_classes(out: str) -> Optional[List[str]]:
    try:
        return read_vocabulary(out)
    except (FileNotFoundError, ValueError):
        return None


def check_replaceable(out: str, class_names: List[str], overwrite: bool) -> None:
    """Refuses to replace anything but an ingest dataset, or one of other classes without --overwrite."""
    if not os.path.isdir(out) or not os.listdir(out):
        return
    foreign = sorted(set(os.listdir(out)) - DATASET_ENTRIES)
    if foreign:
        raise UserError(
            f"--out {out} holds {len(foreign)} entries that are not part of a snout dataset "
            f"(e.g. {foreign[0]!r}); choose a new or empty folder"
        )
    old = _existing_classes(out)
    if old is not None and old != class_names and not overwrite:
        raise UserError(
            f"{os.path.join(out, VOCABULARY_FILE)} lists classes {old} but the input has "
            f"{class_names}: class indices would change meaning; use a new --out or pass --overwrite"
        )


def make_staging(out: str) -> str:
    """A new empty sibling of `out`, on the same filesystem so the final swap is a rename."""
    parent, name = os.path.split(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.ingest-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would outlive the swap
    return staging


def swap_in(staging: str, out: str) -> None:
    """Replaces `out` by `staging`: two renames, and the old dataset deleted only afterwards."""
    if not os.path.lexists(out):
        os.rename(staging, out)
        return
    parent, name = os.path.split(out)
    retired = os.path.join(parent, f".{name}.replaced-{uuid.uuid4().hex[:8]}")
    os.rename(out, retired)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(retired, out)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def discard(staging: str) -> None:
    shutil.rmtree(staging, ignore_errors=True)
