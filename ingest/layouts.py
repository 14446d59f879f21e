"""List the three photo-collection layouts as (relative id, path, label) items.

Listing happens once on the launching machine and only touches directory entries, never file
contents: decoding is the Beam pipeline's job. Problems that are visible from the listing alone
(no label, CSV row without a file, duplicate CSV id) become skips here; problems with the
arguments themselves become one-line `UserError`s.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ingest import reasons
from contract import class_name_problem
from contract.errors import UserError

DEFAULT_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")
DEFAULT_FILENAME_PATTERN = r"^(?P<label>[^.]+)\."
LABEL_COLUMN_CANDIDATES = ("label", "breed")

FOLDERS, CSV, FILENAMES = "folders", "csv", "filenames"
LAYOUTS = (FOLDERS, CSV, FILENAMES)


@dataclass(frozen=True)
class Item:
    rel_id: str  # path relative to the input root, "/"-separated: the split-hash key
    path: str  # where to read the bytes
    label: str  # class name
    size: int  # bytes on disk (sizes the output shards)


@dataclass
class Listing:
    layout: str
    source: str  # what the user pointed at (folder, or the CSV file)
    root: str  # the folder relative ids are relative to
    items: List[Item] = field(default_factory=list)
    skipped: List[Tuple[str, str, str]] = field(default_factory=list)  # (rel_id, reason, detail)
    ignored: List[Tuple[str, str]] = field(default_factory=list)  # (rel path, reason): never opened

    def add(self, rel_id: str, path: str, label: str, size: int) -> None:
        """Lists a file under `label`, or skips it when the label cannot be a class name."""
        problem = class_name_problem(label)
        if problem:
            self.skipped.append((rel_id, reasons.INVALID_LABEL, f"class name {label!r} is {problem}"))
        else:
            self.items.append(Item(rel_id, path, label, size))

    @property
    def class_names(self) -> List[str]:
        return sorted({item.label for item in self.items})


def normalise_extensions(extensions: Optional[Sequence[str]]) -> Tuple[str, ...]:
    exts = extensions or DEFAULT_EXTENSIONS
    return tuple(sorted({(e if e.startswith(".") else "." + e).lower() for e in exts}))


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")  # undecodable bytes came in as lone surrogates (surrogateescape)
        return True
    except UnicodeEncodeError:
        return False


def _classify_link(entry: os.DirEntry, real_root: str) -> Tuple[Optional[str], int]:
    """(ignore reason or None, size) of a symlink: only links to files inside the input are used."""
    try:
        st = os.stat(entry.path)  # follows the link; a loop raises ELOOP, a dangling one ENOENT
    except OSError:
        return reasons.BROKEN_LINK, 0
    target = os.path.realpath(entry.path)
    if os.path.commonpath([target, real_root]) != real_root:
        return reasons.LINK_OUTSIDE_INPUT, 0
    if stat.S_ISDIR(st.st_mode):
        return reasons.FOLDER_LINK, 0
    if not stat.S_ISREG(st.st_mode):
        return reasons.NOT_A_REGULAR_FILE, 0
    return None, st.st_size


def _walk(root: str, ignored: List[Tuple[str, str]]) -> Iterator[Tuple[str, str, int]]:
    """Yields (relative path, path, size) of the usable files under root, sorted.

    Every other entry goes to `ignored` with its reason, once; ignored folders are not entered.
    """
    real_root = os.path.realpath(root)
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, rel_dir)), key=lambda e: e.name)
        except OSError as e:
            raise UserError(f"cannot list {os.path.join(root, rel_dir)}: {e.strerror}") from e
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            reason, size = None, 0
            if not _is_utf8(entry.name):
                reason = reasons.NAME_NOT_UTF8
            elif entry.name.startswith("."):
                reason = reasons.HIDDEN
            elif entry.is_symlink():
                reason, size = _classify_link(entry, real_root)
            elif entry.is_dir(follow_symlinks=False):
                subdirs.append(rel)
                continue
            elif entry.is_file(follow_symlinks=False):
                size = entry.stat(follow_symlinks=False).st_size
            else:
                reason = reasons.NOT_A_REGULAR_FILE
            if reason:
                ignored.append((rel, reason))
            else:
                yield rel, entry.path, size
        stack.extend(reversed(subdirs))


def _require_dir(path: str, what: str) -> str:
    if not path:
        raise UserError(f"no {what} given")
    if not os.path.exists(path):
        raise UserError(f"{what} {path} does not exist")
    if not os.path.isdir(path):
        raise UserError(f"{what} {path} is not a folder")
    return os.path.abspath(path)


def _has_ext(name: str, exts: Tuple[str, ...]) -> bool:
    return os.path.splitext(name)[1].lower() in exts


def list_class_folders(root: str, extensions: Optional[Sequence[str]] = None) -> Listing:
    """Layout 1: `root/<class>/**/<image>`; the top-level folder name is the label."""
    root = _require_dir(root, "input folder")
    exts = normalise_extensions(extensions)
    listing = Listing(layout=FOLDERS, source=root, root=root)
    per_class: Dict[str, int] = {}
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False) and _is_utf8(entry.name) and not entry.name.startswith("."):
            per_class[entry.name] = 0
    for rel, path, size in _walk(root, listing.ignored):
        if not _has_ext(rel, exts):
            listing.ignored.append((rel, reasons.OTHER_EXTENSION))
        elif "/" not in rel:  # an image beside the class folders has no label
            listing.skipped.append((rel, reasons.UNKNOWN_LABEL, "not inside a class folder"))
        else:
            label = rel.split("/", 1)[0]
            per_class[label] += 1
            listing.add(rel, path, label, size)
    if not per_class:
        raise UserError(f"{root} has no class sub-folders (expected {root}/<class>/<image>)")
    empty = [name for name, n in sorted(per_class.items()) if n == 0 and not class_name_problem(name)]
    if empty:
        raise UserError(
            f"class folder(s) with no image files in {root}: {', '.join(empty)} "
            f"(looked for {' '.join(exts)})"
        )
    return _finish(listing, f"image files in {root}")


def list_csv(
    csv_path: str,
    image_dir: str,
    id_column: str = "id",
    label_column: Optional[str] = None,
    image_ext: str = ".jpg",
    extensions: Optional[Sequence[str]] = None,
) -> Listing:
    """Layout 2: a CSV of `id,label` rows naming `<image_dir>/<id><image_ext>`."""
    if not csv_path or not os.path.isfile(csv_path):
        raise UserError(f"CSV file {csv_path} does not exist")
    image_dir = _require_dir(image_dir, "image folder (--image-dir)")
    exts = normalise_extensions(extensions)
    if image_ext and not image_ext.startswith("."):
        image_ext = "." + image_ext
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:  # -sig: Excel's BOM
            reader = csv.DictReader(f)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"cannot read {csv_path} as a UTF-8 CSV: {e}") from e
    if not columns:
        raise UserError(f"{csv_path} is empty (expected a header row such as id,label)")
    if id_column not in columns:
        raise UserError(
            f"{csv_path} has no column '{id_column}' (columns: {', '.join(columns)}); "
            "name the image-id column with --id-column"
        )
    if label_column is None:
        label_column = next((c for c in LABEL_COLUMN_CANDIDATES if c in columns), None)
        if label_column is None:
            raise UserError(
                f"{csv_path} has neither a 'label' nor a 'breed' column (columns: "
                f"{', '.join(columns)}); name the class column with --label-column"
            )
    elif label_column not in columns:
        raise UserError(
            f"{csv_path} has no column '{label_column}' (columns: {', '.join(columns)}); "
            "name the class column with --label-column"
        )

    listing = Listing(layout=CSV, source=os.path.abspath(csv_path), root=image_dir)
    on_disk = {rel: (path, size) for rel, path, size in _walk(image_dir, listing.ignored)}
    seen = set()
    for line_no, row in enumerate(rows, start=2):
        # DictReader keys keep the header's own spacing; look up by stripped name.
        row = {(k or "").strip(): (v or "") for k, v in row.items()}
        image_id = row.get(id_column, "").strip()
        label = row.get(label_column, "").strip()
        if not image_id:
            listing.skipped.append((f"line {line_no}", reasons.MISSING_FILE, "empty id"))
            continue
        rel = image_id if image_id.lower().endswith(image_ext.lower()) else image_id + image_ext
        if rel in seen:
            listing.skipped.append((rel, reasons.DUPLICATE_ID, f"line {line_no}"))
            continue
        seen.add(rel)
        if rel not in on_disk:
            listing.skipped.append((rel, reasons.MISSING_FILE, f"line {line_no}"))
        elif not label:
            listing.skipped.append((rel, reasons.UNKNOWN_LABEL, f"line {line_no}: empty label"))
        else:
            path, size = on_disk[rel]
            listing.add(rel, path, label, size)
    listing.ignored += [(rel, reasons.NOT_IN_CSV) for rel in on_disk if rel not in seen]
    listing.items.sort(key=lambda item: item.rel_id)
    return _finish(listing, f"images named in {csv_path} found in {image_dir}")


def compile_label_pattern(pattern: str) -> "re.Pattern[str]":
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise UserError(f"--filename-pattern {pattern!r} is not a valid regex: {e}") from e
    if "label" not in regex.groupindex and regex.groups < 1:
        raise UserError(
            f"--filename-pattern {pattern!r} has no (?P<label>...) group to take the class from"
        )
    return regex


def label_from_filename(regex: "re.Pattern[str]", basename: str) -> Optional[str]:
    match = regex.search(basename)
    if not match:
        return None
    label = match.group("label") if "label" in regex.groupindex else match.group(1)
    return label.strip() if label and label.strip() else None


def list_filename_labels(
    root: str,
    pattern: str = DEFAULT_FILENAME_PATTERN,
    extensions: Optional[Sequence[str]] = None,
) -> Listing:
    """Layout 3: labels in file names, e.g. `train/cat.123.jpg` with `^(?P<label>[^.]+)\\.`."""
    root = _require_dir(root, "input folder")
    regex = compile_label_pattern(pattern)
    exts = normalise_extensions(extensions)
    listing = Listing(layout=FILENAMES, source=root, root=root)
    for rel, path, size in _walk(root, listing.ignored):
        if not _has_ext(rel, exts):
            listing.ignored.append((rel, reasons.OTHER_EXTENSION))
            continue
        label = label_from_filename(regex, rel.rsplit("/", 1)[-1])
        if label is None:
            listing.skipped.append((rel, reasons.UNKNOWN_LABEL, f"name does not match {pattern}"))
        else:
            listing.add(rel, path, label, size)
    return _finish(listing, f"image files in {root} whose names match {pattern}")


def _finish(listing: Listing, what: str) -> Listing:
    if not listing.items:
        detail = f" ({len(listing.skipped)} listed but skipped)" if listing.skipped else ""
        raise UserError(f"no images found: no {what}{detail}")
    if len(listing.class_names) < 2:
        raise UserError(
            f"found only one class ({listing.class_names[0]}) in {listing.source}; "
            "a classifier needs at least 2"
        )
    return listing
