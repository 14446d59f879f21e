"""The Beam pipeline: listed files -> records of checked, normalised images in spill files + facts.

Placing images in splits needs every image's hash (duplicates, per-class fill), so the
pipeline does the per-image work (read, decode, normalise, hash: the cost) and leaves the
global placement to ingest.placement. Each bundle appends its serialized Examples to a spill file
and, once complete, writes the facts of every file it handled beside it; a bundle that died
leaves no facts, so a retried bundle counts once. Metrics are also emitted for runner UIs.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from ingest import layouts
from ingest.process import Checked, Settings, process_file

FACTS_SUFFIX = ".facts.json"
SPILL_SUFFIX = ".spill"
_METRICS_NAMESPACE = "snout_ingest"
_DIRECT_RUNNERS = (None, "DirectRunner", "direct", "BundleBasedDirectRunner", "SwitchingDirectRunner")

# Progress bars of pipelines running in this process, by token. A DoFn running in another
# process (multi-process DirectRunner, remote workers) finds no bar and only bumps metrics.
_PROGRESS: Dict[str, object] = {}


class _CheckAndSpill(beam.DoFn):
    def __init__(self, spill_dir: str, label_index: Dict[str, int], settings: Settings, progress_token: str):
        self._spill_dir = spill_dir
        self._label_index = label_index
        self._settings = settings
        self._token = progress_token

    def setup(self):
        # Import TensorFlow (for the Example proto) once per worker, before the first element.
        import tensorflow  # noqa: F401

        self._ok = beam.metrics.Metrics.counter(_METRICS_NAMESPACE, "images_written")
        self._skips = beam.metrics.Metrics.counter(_METRICS_NAMESPACE, "files_skipped")

    def start_bundle(self):
        self._name = uuid.uuid4().hex
        self._spill = None
        self._offset = 0
        self._facts: List[dict] = []

    def process(self, item):
        rel_id, path, label = item
        out = process_file(rel_id, path, label, self._label_index, self._settings)
        if isinstance(out, Checked):
            self._ok.inc()
            if self._spill is None:
                self._spill = open(os.path.join(self._spill_dir, self._name + SPILL_SUFFIX), "wb")
            self._spill.write(out.example)
            self._facts.append({
                "rel": rel_id, "label": label, "sha256": out.sha256, "spill": self._name,
                "offset": self._offset, "length": len(out.example), "image_bytes": out.image_bytes,
                "input_bytes": out.input_bytes, "kept": out.kept_original,
            })
            self._offset += len(out.example)
        else:
            self._skips.inc()
            self._facts.append({"rel": rel_id, "reason": out.reason, "detail": out.detail})
        bar = _PROGRESS.get(self._token)
        if bar is not None:
            bar.update(1)

    def finish_bundle(self):
        if self._spill is not None:
            self._spill.close()
        if not self._facts:
            return
        path = os.path.join(self._spill_dir, self._name + FACTS_SUFFIX)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self._facts, f)
        os.replace(path + ".tmp", path)  # facts appear whole, after their spill is complete


def runs_in_this_process(options: PipelineOptions) -> bool:
    """True for the in-process DirectRunner modes, where a local progress bar works."""
    if options.view_as(StandardOptions).runner not in _DIRECT_RUNNERS:
        return False
    return options.view_as(DirectOptions).direct_running_mode != "multi_processing"


def default_options(beam_args: Sequence[str]) -> PipelineOptions:
    """The user's Beam options; on the DirectRunner, one thread per core unless told otherwise.

    Threads suffice: Pillow's decoders and hashlib release the GIL, and they start in no time.
    """
    options = PipelineOptions(list(beam_args))
    direct = options.view_as(DirectOptions)
    if options.view_as(StandardOptions).runner in _DIRECT_RUNNERS and not any(
        a.startswith(("--direct_running_mode", "--direct_num_workers")) for a in beam_args
    ):
        direct.direct_running_mode = "multi_threading"
        direct.direct_num_workers = os.cpu_count() or 1
    return options


def run(
    items: Sequence[layouts.Item],
    class_names: Sequence[str],
    settings: Settings,
    spill_dir: str,
    beam_args: Optional[List[str]] = None,
    progress: bool = True,
) -> List[dict]:
    """Runs the pipeline to completion; returns the facts of every file handled (see _CheckAndSpill)."""
    os.makedirs(spill_dir, exist_ok=True)
    label_index = {name: i for i, name in enumerate(class_names)}
    token = uuid.uuid4().hex
    options = default_options(list(beam_args or []))

    from tqdm import tqdm

    if progress and not runs_in_this_process(options):
        print(f"checking {len(items)} images on the runner's workers: follow the runner's UI or "
              f"logs (Beam counters {_METRICS_NAMESPACE}/images_written, files_skipped)",
              file=sys.stderr)
        progress = False
    bar = tqdm(total=len(items), desc="checking images", unit="img", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    _PROGRESS[token] = bar
    try:
        with beam.Pipeline(options=options) as p:
            _ = (
                p
                # Create reshuffles its elements (reshuffle=True), so decoding spreads over all workers.
                | "ListedFiles" >> beam.Create([(i.rel_id, i.path, i.label) for i in items])
                | "CheckImages" >> beam.ParDo(_CheckAndSpill(spill_dir, label_index, settings, token))
            )
    finally:
        _PROGRESS.pop(token, None)
        bar.close()

    facts: List[dict] = []
    for name in sorted(os.listdir(spill_dir)):
        if name.endswith(FACTS_SUFFIX):
            with open(os.path.join(spill_dir, name), encoding="utf-8") as f:
                facts.extend(json.load(f))
    return facts
