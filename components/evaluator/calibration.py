"""A TFMA metric for calibration on the graded split: ECE before and after temperature scaling.

The exported model's probabilities are already tempered (trainer/export.py divides the logits
by the temperature fitted on validation). Given that temperature T, the untempered output is
softmax(T * log q) of the tempered q, so one pass over the test split gives both: for each, a
fine histogram of the top-1 confidence (count, correct, sum of confidences per bin) from which
the 15-bin expected calibration error, the reliability diagram and the accuracy-coverage curve
are read (trainer/calibration.py). The Evaluator's executor reads T from the candidate model and
adds this metric to the test split's config (with_temperature); only the candidate is measured.
"""

from __future__ import annotations

import json
from typing import Dict, Iterable, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.utils import model_util

from contract import evaluation as ev
from trainer import calibration

FINE_BINS = 300  # a multiple of calibration.ECE_BINS; coverage thresholds every 1/300
STAGES = ("before", "after")
PARTS = ("count", "correct", "confidence")


def histogram_key(stage: str, part: str) -> str:
    return f"calibration_{part}_{stage}"


class CalibrationHistogram(metric_types.Metric):
    """Top-1 confidence histograms and ECE of the candidate, untempered (before) and as exported (after)."""

    def __init__(self, name: str = "calibration", temperature: float = 1.0):
        super().__init__(self._computations, name=name, temperature=temperature)

    def _computations(self, name: str, eval_config, model_names: Iterable[str], temperature: float = 1.0,
                      output_names: Optional[Iterable[str]] = ("",), sub_keys=None):
        baseline = model_util.get_baseline_model_spec(eval_config)
        computations = []
        for model_name in model_names:
            if baseline is not None and model_name == baseline.name:
                continue
            for output_name in output_names or ("",):
                names = [ev.ECE_BEFORE, ev.ECE_AFTER] + [histogram_key(s, p) for s in STAGES for p in PARTS]
                keys = {n: metric_types.MetricKey(name=n, model_name=model_name, output_name=output_name)
                        for n in names}
                computations.append(metric_types.MetricComputation(
                    keys=list(keys.values()), preprocessors=None,
                    combiner=_Combiner(keys, eval_config, model_name, output_name, float(temperature))))
        return computations


class _Combiner(beam.CombineFn):
    def __init__(self, keys: Dict[str, metric_types.MetricKey], eval_config, model_name: str, output_name: str,
                 temperature: float):
        self._keys, self._eval_config = keys, eval_config
        self._model_name, self._output_name = model_name, output_name
        self._temperature = temperature

    def create_accumulator(self):
        return np.zeros((len(STAGES), len(PARTS), FINE_BINS))

    def add_input(self, accumulator, element):
        label, prediction, _ = next(metric_util.to_label_prediction_example_weight(
            inputs=element, eval_config=self._eval_config, model_name=self._model_name,
            output_name=self._output_name, flatten=False, allow_none=True))
        after = np.asarray(prediction, np.float64).reshape(1, -1)
        label = np.asarray(label).reshape(-1)[:1].astype(int)
        before = calibration.tempered(after, 1.0 / self._temperature)  # softmax(T log q): the untempered output
        for stage, probabilities in enumerate((before, after)):
            parts = calibration.histogram(*calibration.confidence_and_correct(probabilities, label), FINE_BINS)
            accumulator[stage] += np.stack(parts)
        return accumulator

    def merge_accumulators(self, accumulators):
        return np.sum(list(accumulators), axis=0)

    def extract_output(self, accumulator):
        out = {}
        for stage, name in enumerate(STAGES):
            for part, part_name in enumerate(PARTS):
                out[self._keys[histogram_key(name, part_name)]] = accumulator[stage, part].copy()
            coarse = calibration.coarsen(*accumulator[stage], calibration.ECE_BINS)
            out[self._keys[ev.ECE_BEFORE if name == "before" else ev.ECE_AFTER]] = calibration.ece_from_histogram(
                *coarse)
        return out


def with_temperature(metric_configs, temperature: float) -> None:
    """Sets the temperature of every CalibrationHistogram config in `metric_configs` (in place)."""
    for metric in metric_configs:
        if metric.class_name == CalibrationHistogram.__name__:
            metric.config = json.dumps({"temperature": float(temperature)})


def summary(histograms: Dict[str, np.ndarray], temperature: float) -> dict:
    """gate.json's `calibration`: ECE before/after, reliability (15 bins) and accuracy against coverage."""
    found = {}
    for stage in STAGES:
        fine = [np.asarray(histograms[histogram_key(stage, p)], np.float64) for p in PARTS]
        coarse = calibration.coarsen(*fine, calibration.ECE_BINS)
        curve = calibration.coverage_curve(fine[0], fine[1])
        # A point only where the coverage changes: the curve's shape, not FINE_BINS copies of its flat parts.
        curve = [c for i, c in enumerate(curve) if i == 0 or c["coverage"] != curve[i - 1]["coverage"]]
        found[stage] = {"ece": calibration.ece_from_histogram(*coarse), "reliability": calibration.reliability(*coarse),
                        "coverage": curve}
    return {"temperature": temperature, "bins": calibration.ECE_BINS, "ece_before": found["before"]["ece"],
            "ece_after": found["after"]["ece"], "reliability_before": found["before"]["reliability"],
            "reliability_after": found["after"]["reliability"], "coverage": found["after"]["coverage"]}


metric_types.register_metric(CalibrationHistogram)


def model_temperature(model_dir: str) -> float:
    """The temperature the exported model applies (its snout_model.json), 1.0 for a model without one."""
    import os

    from tfx.dsl.io import fileio

    import contract

    path = os.path.join(model_dir, contract.MODEL_EXTRA_DIR, contract.MODEL_INFO_FILE)
    if not fileio.exists(path):
        return 1.0
    with fileio.open(path, "r") as f:
        return float(json.loads(f.read()).get("temperature") or 1.0)


def config_with_temperature(eval_config_json: str, temperature: float) -> str:
    """The Evaluator's EvalConfig (JSON, as in exec_properties) with this model's temperature set."""
    import tensorflow_model_analysis as tfma
    from tfx.utils import proto_utils

    config = tfma.EvalConfig()
    proto_utils.json_to_proto(eval_config_json, config)
    for spec in config.metrics_specs:
        with_temperature(spec.metrics, temperature)
    return proto_utils.proto_to_json(config)


def read(evaluation_uri: str, temperature: float) -> dict:
    """gate.json's `calibration` from TFMA's overall-slice metrics of the candidate ({} if not computed)."""
    import tensorflow_model_analysis as tfma

    wanted = {histogram_key(s, p) for s in STAGES for p in PARTS}
    found = {}
    for slice_metrics in tfma.load_metrics(evaluation_uri):
        if slice_metrics.slice_key.single_slice_keys:
            continue
        for kv in slice_metrics.metric_keys_and_values:
            if kv.key.name in wanted and kv.key.model_name != ev.BASELINE and kv.value.HasField("array_value"):
                found[kv.key.name] = np.asarray(kv.value.array_value.float64_values, np.float64)
    return summary(found, temperature) if len(found) == len(wanted) else {}
