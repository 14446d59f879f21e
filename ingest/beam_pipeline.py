"""The Beam pipeline: listed files -> checked images -> sharded gzip TFRecords per split + report.

Counts come back through a file written by the pipeline itself (one combined report), not
through Beam metrics: a combine's output is exact on every runner, while metrics are
"attempted" on some (retried bundles count twice). Metrics are still emitted for runner UIs.
"""

from __future__ import annotations

import json
import math
import os
import sys
import uuid
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from ingest import layouts
from ingest.process import Settings, Skipped, process_file
from ingest.split import SPLITS, assign_split
from contract import RECORD_SUFFIX

REPORT_DIR = ".ingest-report"  # hidden, inside the output; removed once read
SHARD_PREFIX = "images"
_METRICS_NAMESPACE = "snout_ingest"

# Progress bars of pipelines running in this process, by token. A DoFn running in another
# process (multi-process DirectRunner, remote workers) finds no bar and only bumps metrics.
_PROGRESS: Dict[str, object] = {}


class _CheckFiles(beam.DoFn):
    SKIPPED = "skipped"

    def __init__(self, label_index: Dict[str, int], settings: Settings, progress_token: str):
        self._label_index = label_index
        self._settings = settings
        self._token = progress_token

    def setup(self):
        # Import TensorFlow (for the Example proto) once per worker, before the first element.
        import tensorflow  # noqa: F401

        self._ok = beam.metrics.Metrics.counter(_METRICS_NAMESPACE, "images_written")
        self._skips = beam.metrics.Metrics.counter(_METRICS_NAMESPACE, "files_skipped")

    def process(self, item):
        rel_id, path, label = item
        out = process_file(rel_id, path, label, self._label_index, self._settings)
        bar = _PROGRESS.get(self._token)
        if bar is not None:
            bar.update(1)
        if isinstance(out, Skipped):
            self._skips.inc()
            yield beam.pvalue.TaggedOutput(self.SKIPPED, tuple(out))
        else:
            self._ok.inc()
            yield tuple(out)


class _ReportFn(beam.CombineFn):
    """Combines written/skipped elements into exact counts, the manifest and the skip list."""

    def create_accumulator(self):
        return {"counts": {}, "image_bytes": {}, "input_bytes": 0, "kept_original": 0,
                "reencoded": 0, "manifest": [], "skipped": []}

    def add_input(self, acc, element):
        kind, payload = element
        if kind == "skip":
            acc["skipped"].append(list(payload))
            return acc
        split, rel_id, label, input_bytes, image_bytes, kept = payload
        key = f"{split}\t{label}"
        acc["counts"][key] = acc["counts"].get(key, 0) + 1
        acc["image_bytes"][split] = acc["image_bytes"].get(split, 0) + image_bytes
        acc["input_bytes"] += input_bytes
        acc["kept_original" if kept else "reencoded"] += 1
        acc["manifest"].append([split, label, rel_id])
        return acc

    def merge_accumulators(self, accumulators):
        merged = self.create_accumulator()
        for acc in accumulators:
            for field in ("counts", "image_bytes"):
                for k, v in acc[field].items():
                    merged[field][k] = merged[field].get(k, 0) + v
            for field in ("input_bytes", "kept_original", "reencoded"):
                merged[field] += acc[field]
            merged["manifest"].extend(acc["manifest"])
            merged["skipped"].extend(acc["skipped"])
        return merged

    def extract_output(self, acc):
        return acc


def shard_counts(items: Sequence[layouts.Item], ratios: Dict[str, float], shard_mb: float) -> Dict[str, int]:
    """Shards per split from on-disk sizes, so shards come out near `shard_mb` each."""
    size_by_split: Dict[str, int] = defaultdict(int)
    for item in items:
        size_by_split[assign_split(item.rel_id, ratios)] += item.size
    target = max(1.0, shard_mb) * 1024 * 1024
    return {s: max(1, math.ceil(size_by_split[s] / target)) for s in SPLITS if s in size_by_split}


def runs_in_this_process(options: PipelineOptions) -> bool:
    """True for the default DirectRunner (in-process threads), where a local progress bar works."""
    runner = options.view_as(StandardOptions).runner
    if runner not in (None, "DirectRunner", "direct", "BundleBasedDirectRunner", "SwitchingDirectRunner"):
        return False
    return options.view_as(DirectOptions).direct_running_mode != "multi_processing"


def run(
    items: Sequence[layouts.Item],
    class_names: Sequence[str],
    settings: Settings,
    out_dir: str,
    shard_mb: float = 128.0,
    beam_args: Optional[List[str]] = None,
    progress: bool = True,
) -> dict:
    """Runs the pipeline to completion and returns the combined report (see _ReportFn)."""
    label_index = {name: i for i, name in enumerate(class_names)}
    shards = shard_counts(items, settings.ratios, shard_mb)
    report_dir = os.path.join(out_dir, REPORT_DIR)
    token = uuid.uuid4().hex
    options = PipelineOptions(list(beam_args or []))

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
            results = (
                p
                | "ListedFiles" >> beam.Create([(i.rel_id, i.path, i.label) for i in items])
                # Break fusion with Create so reading/decoding spreads over all workers.
                | "Spread" >> beam.Reshuffle()
                | "CheckImages" >> beam.ParDo(_CheckFiles(label_index, settings, token))
                .with_outputs(_CheckFiles.SKIPPED, main="written")
            )
            written = results.written
            by_split = written | "BySplit" >> beam.Partition(
                lambda w, n: SPLITS.index(w[0]), len(SPLITS)
            )
            for index, split in enumerate(SPLITS):
                if split not in shards:
                    continue
                _ = (
                    by_split[index]
                    | f"Examples{split}" >> beam.Map(lambda w: w[3])
                    | f"Write{split}" >> beam.io.WriteToTFRecord(
                        os.path.join(out_dir, split, SHARD_PREFIX),
                        file_name_suffix=RECORD_SUFFIX,
                        num_shards=shards[split],
                        compression_type=beam.io.filesystem.CompressionTypes.GZIP,
                    )
                )
            facts = written | "Facts" >> beam.Map(
                lambda w: ("ok", (w[0], w[1], w[2], w[4], w[5], w[6]))
            )
            skips = results[_CheckFiles.SKIPPED] | "Skips" >> beam.Map(lambda s: ("skip", s))
            _ = (
                (facts, skips)
                | "All" >> beam.Flatten()
                | "Report" >> beam.CombineGlobally(_ReportFn())
                | "ToJson" >> beam.Map(json.dumps)
                | "WriteReport" >> beam.io.WriteToText(
                    os.path.join(report_dir, "report"), file_name_suffix=".json",
                    num_shards=1, shard_name_template="",
                )
            )
    finally:
        _PROGRESS.pop(token, None)
        bar.close()

    report_path = os.path.join(report_dir, "report.json")
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    os.remove(report_path)
    try:
        os.rmdir(report_dir)
    except OSError:
        pass
    report["shards"] = shards
    return report
