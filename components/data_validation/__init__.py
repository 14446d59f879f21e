"""Data validation that can stop a run: the dataset's schema (label domain from labels.txt, a
required image) and an ExampleValidator whose executor fails when it finds anomalies."""

from components.data_validation.component import GatingExampleValidator
from components.data_validation.executor import DataRejected, describe_anomalies
from components.data_validation.schema import (build_schema, check_class_names, read_schema, schema_class_names,
                                               with_source_feature, write_schema)

__all__ = ["GatingExampleValidator", "DataRejected", "describe_anomalies", "build_schema", "check_class_names",
           "read_schema", "schema_class_names", "with_source_feature", "write_schema"]
