"""Finds, loads, polls and unloads the versions of each served model (TF Serving's
FileSystemStoragePathSource + "latest" version policy, in Python).

Layout: <serving_dir>/<model_name>/<version>/saved_model.pb (+ variables/), version
an integer directory name. Every poll:
  * version directories that disappeared are unloaded;
  * ready versions (saved_model.pb present and no file modified in the last
    `settle_seconds`) are tried newest first until `keep_versions` are loaded
    (0 = all); a version that fails to load is recorded (status END + error) and
    retried when its files change (or every 30 s), so a half-written push never
    crashes the server and is picked up once complete;
  * loaded versions beyond the newest `keep_versions` are unloaded. An older
    version stays loaded until a newer one has loaded (availability preserving).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple


from serving.errors import ServingError, invalid_argument, not_found  # noqa: E402

_VERSION_DIR = re.compile(r"^\d+$")


@dataclass
class LoadedVersion:
    name: str
    version: int
    path: str
    model: object                       # what tf.saved_model.load returned (kept alive)
    signature_defs: Dict[str, object]   # name -> SignatureDef proto (from saved_model.pb)
    functions: Dict[str, object]        # name -> ConcreteFunction (model.signatures)


@dataclass
class _ModelState:
    loaded: Dict[int, LoadedVersion] = field(default_factory=dict)
    failed: Dict[int, str] = field(default_factory=dict)   # version -> load error
    failure_info: Dict[int, Tuple[float, float]] = field(default_factory=dict)  # (mtime, when)


@dataclass
class VersionStatus:
    version: int
    state: str            # "AVAILABLE" or "END" (failed to load)
    error_code: str       # "OK" or "UNKNOWN"
    error_message: str


def load_version(name: str, version: int, path: str) -> LoadedVersion:
    import tensorflow as tf

    import contract
    from contract.saved_model import read_signature_defs

    signature_defs = read_signature_defs(path)
    model = tf.saved_model.load(path, tags=[contract.SERVE_TAG])
    functions = dict(model.signatures)
    return LoadedVersion(name, version, path, model, signature_defs, functions)


def _newest_mtime(path: str) -> float:
    newest = os.path.getmtime(path)
    for root, dirs, files in os.walk(path):
        for entry in dirs + files:
            try:
                newest = max(newest, os.path.getmtime(os.path.join(root, entry)))
            except OSError:
                pass
    return newest


class ModelStore:
    RETRY_FAILED_SECONDS = 30.0

    def __init__(self, serving_dir: str, model_names: Sequence[str] = ("snout",),
                 keep_versions: int = 1, poll_seconds: float = 2.0,
                 settle_seconds: float = 1.0, version_labels: Optional[Dict[str, Dict[str, int]]] = None,
                 log: Callable[[str], None] = None,
                 loader: Callable[[str, int, str], LoadedVersion] = load_version):
        self.serving_dir = serving_dir
        self.model_names = list(model_names)
        self.keep_versions = int(keep_versions)
        self.poll_seconds = float(poll_seconds)
        self.settle_seconds = float(settle_seconds)
        self.version_labels = {m: dict(v) for m, v in (version_labels or {}).items()}
        self._log = log or (lambda msg: print(f"snout serve: {msg}", file=sys.stderr, flush=True))
        self._loader = loader
        self._lock = threading.Lock()
        self._models: Dict[str, _ModelState] = {n: _ModelState() for n in self.model_names}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._poll_lock = threading.Lock()

    # ---- discovery and loading ----

    def _versions_on_disk(self, name: str) -> Tuple[List[int], List[int]]:
        """(all integer version dirs, those with a saved_model.pb), newest first."""
        base = os.path.join(self.serving_dir, name)
        try:
            entries = os.listdir(base)
        except OSError:
            return [], []
        versions, ready = [], []
        for entry in entries:
            path = os.path.join(base, entry)
            if not _VERSION_DIR.match(entry) or not os.path.isdir(path):
                continue
            versions.append(int(entry))
            if os.path.isfile(os.path.join(path, "saved_model.pb")):
                ready.append(int(entry))
            # else: still being written (or not a SavedModel): look again next poll
        return sorted(versions, reverse=True), sorted(ready, reverse=True)

    def _should_try(self, state: "_ModelState", version: int, path: str) -> bool:
        """Not while files are still changing (a push in progress); a version that
        failed is retried when its files change or after RETRY_FAILED_SECONDS."""
        try:
            newest = _newest_mtime(path)
        except OSError:
            return False
        if self.settle_seconds > 0 and time.time() - newest < self.settle_seconds:
            return False
        failure = state.failure_info.get(version)
        if failure is None:
            return True
        failed_mtime, failed_at = failure
        return newest != failed_mtime or time.time() - failed_at >= self.RETRY_FAILED_SECONDS

    def poll_once(self) -> None:
        """One scan of every model's base path (also what the polling thread runs)."""
        with self._poll_lock:
            for name in self.model_names:
                try:
                    self._poll_model(name)
                except Exception as e:  # never let a scan kill the server
                    self._log(f"model {name}: scan failed: {type(e).__name__}: {e}")

    def _poll_model(self, name: str) -> None:
        on_disk, ready = self._versions_on_disk(name)
        state = self._models[name]
        with self._lock:
            gone = [v for v in state.loaded if v not in on_disk]
            for v in gone:
                del state.loaded[v]
            for v in [v for v in state.failed if v not in on_disk]:
                del state.failed[v]
                state.failure_info.pop(v, None)
        for v in gone:
            self._log(f"model {name}: unloaded version {v} (directory removed)")
        want = self.keep_versions if self.keep_versions > 0 else len(ready)
        loaded_count = 0
        for version in ready:
            if loaded_count >= want:
                break
            if version in state.loaded:
                loaded_count += 1
                continue
            path = os.path.join(self.serving_dir, name, str(version))
            if not self._should_try(state, version, path):
                continue
            try:
                servable = self._loader(name, version, path)
            except Exception as e:
                message = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
                try:
                    mtime = _newest_mtime(path)
                except OSError:
                    mtime = 0.0
                with self._lock:
                    previous = state.failed.get(version)
                    state.failed[version] = message
                    state.failure_info[version] = (mtime, time.time())
                if previous != message:
                    self._log(f"model {name}: version {version} failed to load, retrying on "
                              f"the next poll: {message}")
                continue
            with self._lock:
                state.loaded[version] = servable
                state.failed.pop(version, None)
                state.failure_info.pop(version, None)
            loaded_count += 1
            self._log(f"model {name}: loaded version {version} from {path}")
        with self._lock:
            newest = sorted(state.loaded, reverse=True)
            keep = newest[:self.keep_versions] if self.keep_versions > 0 else newest
            dropped = [v for v in newest if v not in keep]
            for v in dropped:
                del state.loaded[v]
            # Failures older than what is served are no longer aspired: forget them.
            if keep:
                for v in [v for v in state.failed if v < min(keep)]:
                    del state.failed[v]
                    state.failure_info.pop(v, None)
        for v in dropped:
            self._log(f"model {name}: unloaded version {v} (newer version(s) {keep} loaded)")

    def start(self) -> "ModelStore":
        """Scan once synchronously, then keep polling in a daemon thread."""
        self.poll_once()
        if self.poll_seconds > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="snout-model-poll", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.poll_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    # ---- lookups (what the request handlers call) ----

    def _spec_text(self, name: str, version: Optional[int], label: Optional[str]) -> str:
        if version is not None:
            return f"Specific({name}, {version})"
        if label:
            return f"Label({name}, {label})"
        return f"Latest({name})"

    def _labelled_version(self, name: str, version: Optional[int], label: Optional[str]) -> Optional[int]:
        """The version a label points at (INVALID_ARGUMENT for an unknown label); else `version`."""
        if not label:
            return version
        labels = self.version_labels.get(name, {})
        if label not in labels:
            raise invalid_argument(f"Unrecognized servable version label: {label}")
        return labels[label]

    def resolve(self, name: str, version: Optional[int] = None,
                label: Optional[str] = None) -> LoadedVersion:
        """The loaded servable for a request's model spec, or ServingError like TF Serving."""
        if not name:
            raise invalid_argument("Missing ModelSpec")
        if version is not None and label:
            raise invalid_argument("Both version and version_label specified in ModelSpec")
        version = self._labelled_version(name, version, label)
        with self._lock:
            state = self._models.get(name)
            if state is not None:
                if version is None:
                    if state.loaded:
                        return state.loaded[max(state.loaded)]
                elif version in state.loaded:
                    return state.loaded[version]
        if label:
            raise ServingError(
                "FAILED_PRECONDITION",
                f"Version label {label} of model {name} refers to version {version}, "
                "which is not currently available for inference")
        raise not_found(f"Servable not found for request: {self._spec_text(name, version, label)}")

    def status(self, name: str, version: Optional[int] = None) -> List[VersionStatus]:
        """GetModelStatus: loaded versions AVAILABLE, failed loads END (newest first).
        It takes no version label: TF Serving's GetModelStatusImpl (model_servers/get_model_status_impl.cc)
        reads only the model spec's name and version, so a label, known or not, lists every version."""
        if not name:
            raise invalid_argument("Missing model name in request.")
        with self._lock:
            state = self._models.get(name)
            statuses = []
            if state is not None:
                statuses += [VersionStatus(v, "AVAILABLE", "OK", "") for v in state.loaded]
                statuses += [VersionStatus(v, "END", "UNKNOWN", msg) for v, msg in state.failed.items()
                             if v not in state.loaded]
        if state is None or not statuses:
            raise not_found(f"Could not find any versions of model {name}")
        if version is not None:
            statuses = [s for s in statuses if s.version == version]
            if not statuses:
                raise not_found(f"Could not find version {version} of model {name}")
        return sorted(statuses, key=lambda s: -s.version)

    def loaded_versions(self, name: str) -> List[int]:
        with self._lock:
            state = self._models.get(name)
            return sorted(state.loaded) if state else []
