"""The TFMA configuration the Evaluator runs: what is computed, and the absolute accuracy threshold.

TFMA computes every number; the no-regression rule is applied afterwards on TFMA's
results (components/evaluator/gate.py), so TFMA holds only the --min-accuracy threshold.
"""

import tensorflow_model_analysis as tfma

from contract import LABEL_KEY, OUTPUT_PROBABILITIES, SIGNATURE_TF_EXAMPLE
from contract.evaluation import TOP_K, TOP_K_ACCURACY
from components.evaluator import calibration, paired

def eval_config(min_accuracy: float, num_classes: int) -> tfma.EvalConfig:
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_accuracy}))
    overall = [
        tfma.MetricConfig(class_name="ExampleCount"),
        # On the overall slice only: a `threshold` would apply to every slice a config adds.
        tfma.MetricConfig(class_name="SparseCategoricalAccuracy", per_slice_thresholds=[
            tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=accuracy_threshold)]),
        tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),  # argmax confusion matrix
        # Only computed when the Evaluator has a baseline (the paired no-regression test).
        tfma.MetricConfig(class_name=paired.PairedCorrectness.__name__, module=paired.__name__),
        # ECE before/after the model's temperature, reliability and coverage; the executor sets the temperature.
        tfma.MetricConfig(class_name=calibration.CalibrationHistogram.__name__, module=calibration.__name__),
    ]
    if num_classes > TOP_K:
        overall.append(tfma.MetricConfig(class_name="SparseTopKCategoricalAccuracy",
                                         config=f'{{"k": {TOP_K}, "name": "{TOP_K_ACCURACY}"}}'))
    return tfma.EvalConfig(
        # snout exports with tf.saved_model.save, so TFMA's probe (a Keras load that fails after loading the
        # whole model: 2.5 s a model) would answer tf_generic anyway: say it instead.
        model_specs=[tfma.ModelSpec(signature_name=SIGNATURE_TF_EXAMPLE, label_key=LABEL_KEY,
                                    prediction_key=OUTPUT_PROBABILITIES, model_type=tfma.TF_GENERIC)],
        slicing_specs=[tfma.SlicingSpec()],
        # Per-class precision and recall are read off the argmax confusion matrix (report/metrics.py): TFMA's
        # binarized Precision/Recall are one-vs-rest at a threshold, or with top_k=1 count ties as both classes.
        metrics_specs=[tfma.MetricsSpec(metrics=overall)],
    )
