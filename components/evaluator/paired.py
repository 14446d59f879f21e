"""A TFMA metric that compares the candidate and the baseline example by example.

For the no-regression check (components/evaluator/gate.py) the two accuracies are not
enough: on the same test examples, what matters is how many examples only the candidate
gets right and how many only the baseline does (McNemar's discordant pairs). TFMA
computes it like its own cross-model metrics (e.g. ModelCosineSimilarity): one combiner
sees both models' predictions for each example.
"""

from __future__ import annotations

from typing import Iterable, Optional

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util
from tensorflow_model_analysis.utils import model_util

from contract.evaluation import BASELINE_ONLY_CORRECT, CANDIDATE_ONLY_CORRECT

NAME = "paired_correctness"


class PairedCorrectness(metric_types.Metric):
    """Counts of test examples only the candidate / only the baseline classifies right (argmax)."""

    def __init__(self, name: str = NAME):
        super().__init__(self._computations, name=name)

    def _computations(self, name: str, eval_config, model_names: Iterable[str],
                      output_names: Optional[Iterable[str]] = ("",), sub_keys=None):
        baseline_spec = model_util.get_baseline_model_spec(eval_config)
        if baseline_spec is None:  # no baseline this run: nothing to pair with
            return []
        computations = []
        for model_name in model_names:
            if model_name == baseline_spec.name:
                continue
            for output_name in output_names or ("",):
                keys = [metric_types.MetricKey(name=n, model_name=model_name, output_name=output_name, is_diff=True)
                        for n in (CANDIDATE_ONLY_CORRECT, BASELINE_ONLY_CORRECT)]
                computations.append(metric_types.MetricComputation(
                    keys=keys, preprocessors=None,
                    combiner=_PairedCombiner(keys, eval_config, baseline_spec.name, model_name, output_name)))
        return computations


def _is_correct(label, prediction) -> bool:
    return int(np.argmax(prediction)) == int(np.asarray(label).reshape(-1)[0])


class _PairedCombiner(beam.CombineFn):
    def __init__(self, keys, eval_config, baseline_name: str, candidate_name: str, output_name: str):
        self._keys = keys
        self._eval_config = eval_config
        self._models = (candidate_name, baseline_name)
        self._output_name = output_name

    def create_accumulator(self):
        return np.zeros(2, dtype=np.int64)  # [candidate only right, baseline only right]

    def _correct(self, element, model_name: str) -> bool:
        label, prediction, _ = next(metric_util.to_label_prediction_example_weight(
            inputs=element, eval_config=self._eval_config, model_name=model_name,
            output_name=self._output_name, flatten=False, allow_none=True))
        return _is_correct(label, prediction)

    def add_input(self, accumulator, element):
        candidate, baseline = (self._correct(element, m) for m in self._models)
        if candidate != baseline:
            accumulator[0 if candidate else 1] += 1
        return accumulator

    def merge_accumulators(self, accumulators):
        return np.sum(list(accumulators), axis=0)

    def extract_output(self, accumulator):
        return {key: float(n) for key, n in zip(self._keys, accumulator)}


metric_types.register_metric(PairedCorrectness)
