"""ExampleValidator's executor, plus a verdict: anomalies fail the component with one readable line.

TFX's own executor only records anomalies; nothing downstream reads them. This one writes the
same artifacts (Split-*/SchemaDiff.pb) and then raises, so the run stops before Transform
(the DAG makes Transform wait for it) and nothing is trained or pushed.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List

from tfx.components.example_validator import executor as tfx_executor
from tfx.components.example_validator import labels
from tfx.types import artifact

from contract.errors import UserError


class DataRejected(UserError):
    """The data broke the dataset's schema (exit code 2 through `snout`, one line)."""


def describe_anomalies(per_split: Dict[str, Any], limit: int = 4) -> str:
    """'split test: label: Out-of-range values (Unexpectedly large value: 7.); ...' from Anomalies protos."""
    parts = []
    for split, anomalies in sorted(per_split.items()):
        for feature, info in sorted(anomalies.anomaly_info.items()):
            detail = info.description if info.description != info.short_description else ""
            parts.append(f"split {split}: {feature}: {info.short_description}" + (f" ({detail})" if detail else ""))
        if anomalies.HasField("dataset_anomaly_info"):
            parts.append(f"split {split}: dataset: {anomalies.dataset_anomaly_info.short_description}")
    more = f"; and {len(parts) - limit} more" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more


class Executor(tfx_executor.Executor):
    def Do(self, input_dict: Dict[str, List[artifact.Artifact]], output_dict: Dict[str, List[artifact.Artifact]],
           exec_properties: Dict[str, Any]):
        self._found = {}
        result = super().Do(input_dict, output_dict, exec_properties)
        if self._found:
            raise DataRejected(f"data check failed against the dataset's schema: {describe_anomalies(self._found)}; "
                               "the run stopped before Transform, nothing was trained or pushed")
        return result

    def _Validate(self, inputs: Dict[str, Any], outputs: Dict[str, Any]):
        anomalies = super()._Validate(inputs, outputs)
        if anomalies.anomaly_info or anomalies.HasField("dataset_anomaly_info"):
            split_uri = outputs[labels.SCHEMA_DIFF_PATH]
            self._found[os.path.basename(os.path.normpath(split_uri)).replace("Split-", "", 1)] = anomalies
        return anomalies
