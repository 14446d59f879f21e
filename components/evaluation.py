"""The Evaluator's gate: TFMA config for accuracy, per-class metrics and no-regression."""

import tensorflow_model_analysis as tfma

from contract import LABEL_KEY, OUTPUT_PROBABILITIES, SIGNATURE_TF_EXAMPLE


def eval_config(min_accuracy: float, max_accuracy_drop: float, num_classes: int) -> tfma.EvalConfig:
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_accuracy}),
        # Against the Resolver's latest blessed model; ignored on the very first run.
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={"value": -max_accuracy_drop},
        ),
    )
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name=SIGNATURE_TF_EXAMPLE, label_key=LABEL_KEY,
                                    prediction_key=OUTPUT_PROBABILITIES)],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[LABEL_KEY])],
        metrics_specs=[
            tfma.MetricsSpec(metrics=[
                tfma.MetricConfig(class_name="ExampleCount"),
                # The gate is on overall accuracy only: a `threshold` here would apply to every
                # slice, failing a model on one small class's label slice.
                tfma.MetricConfig(class_name="SparseCategoricalAccuracy", per_slice_thresholds=[
                    tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=accuracy_threshold)]),
                tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
            ]),
            # Per-class precision/recall: one-vs-rest over each class id.
            tfma.MetricsSpec(
                metrics=[tfma.MetricConfig(class_name="Precision"), tfma.MetricConfig(class_name="Recall")],
                binarize=tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))}),
            ),
        ],
    )
