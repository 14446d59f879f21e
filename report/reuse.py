"""What the report would compute again for a run that did not change, kept beside the page.

An unchanged rerun writes the same report again: the same model run on the same graded images
and the same figures (most of the report's time: loading the model, drawing with matplotlib).
Each is stored in `<report dir>/.cache/` under a key of everything it is computed from (the
model's SavedModel files, the record files, the figure's data) and reused only when the key
matches; anything else is computed afresh. Plain files (PNG, JSON), nothing executable.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import pickle
from typing import Callable, Iterable, List, Optional

CACHE_DIR = ".cache"


def key_of(*parts) -> str:
    """A digest of the inputs (numbers, strings, lists, dicts, numpy arrays)."""
    return hashlib.sha256(pickle.dumps(parts, protocol=4)).hexdigest()[:32]


def files_identity(paths: Iterable[str]) -> List[tuple]:
    """(path, size, modification time) of each file: what changes when a file is rewritten."""
    found = []
    for path in paths:
        stat = os.stat(path)
        found.append((os.path.abspath(path), stat.st_size, stat.st_mtime_ns))
    return found


def model_identity(model_dir: str) -> List[tuple]:
    """The identity of every file of a SavedModel (graph, variables, assets)."""
    files = [os.path.join(folder, name) for folder, _, names in os.walk(model_dir) for name in names]
    return files_identity(sorted(files))


def _stored(cache_dir: Optional[str], name: str, key: str, suffix: str, compute: Callable[[], bytes],
            ) -> bytes:
    if not cache_dir:
        return compute()
    path = os.path.join(cache_dir, f"{name}-{key}{suffix}")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return f.read()
    data = compute()
    os.makedirs(cache_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(glob.escape(cache_dir), f"{name}-*{suffix}")):
        os.remove(stale)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    return data


def figure(cache_dir: Optional[str], name: str, draw: Callable[[], bytes], *inputs) -> bytes:
    """The PNG `draw()` returns, or the stored one drawn from the same inputs."""
    return _stored(cache_dir, os.path.splitext(name)[0], key_of(name, *inputs), ".png", draw)


def predictions(cache_dir: Optional[str], key: str, run: Callable[[], dict]) -> dict:
    """`run()`'s fields (images as bytes, labels, probabilities as lists), or the stored ones."""

    def encoded() -> bytes:
        fields = dict(run())
        fields["images"] = [base64.b64encode(image).decode("ascii") for image in fields["images"]]
        return json.dumps(fields).encode()

    fields = json.loads(_stored(cache_dir, "predictions", key, ".json", encoded))
    fields["images"] = [base64.b64decode(image) for image in fields["images"]]
    return fields
