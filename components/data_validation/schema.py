"""The dataset's schema: what every split of a dataset must look like, written once per workspace.

Built from labels.txt on the first run rather than inferred, so that even the first run checks
the label domain: `image` (bytes, exactly one per example, in every example) and `label` (int,
exactly one, in [0, number of classes - 1]). The class names ride along in a global string
domain named after the label, so a later labels.txt can be compared with them. `source` (the
image's path in its collection, written by `snout ingest`) is optional: at most one value, and
datasets made before it have none.
"""

from __future__ import annotations

from typing import List, Sequence

import contract
from contract.errors import UserError


def build_schema(class_names: Sequence[str]):
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = schema_pb2.Schema()
    for key, kind in ((contract.IMAGE_KEY, schema_pb2.BYTES), (contract.LABEL_KEY, schema_pb2.INT)):
        feature = schema.feature.add(name=key, type=kind)
        feature.presence.min_fraction = 1.0
        feature.presence.min_count = 1
        feature.shape.dim.add(size=1)  # exactly one value; FixedLenFeature([1]) for Transform, as SchemaGen infers
    label = next(f for f in schema.feature if f.name == contract.LABEL_KEY)
    label.int_domain.min, label.int_domain.max = 0, len(class_names) - 1
    schema.string_domain.add(name=contract.LABEL_KEY, value=list(class_names))
    return with_source_feature(schema)


def with_source_feature(schema):
    """The schema with the optional `source` feature; a schema written before it gains it (in place).

    Without it TFDV would reject every dataset ingested since as having a new column.
    """
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not any(f.name == contract.SOURCE_KEY for f in schema.feature):
        source = schema.feature.add(name=contract.SOURCE_KEY, type=schema_pb2.BYTES)
        source.presence.min_fraction = 0.0
        source.value_count.min, source.value_count.max = 1, 1
    return schema


def schema_class_names(schema) -> List[str]:
    for domain in schema.string_domain:
        if domain.name == contract.LABEL_KEY:
            return list(domain.value)
    return []


def read_schema(path: str):
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.dsl.io import fileio

    try:
        with fileio.open(path, "r") as f:
            return text_format.Parse(f.read(), schema_pb2.Schema())
    except text_format.ParseError as e:
        raise UserError(f"--schema {path}: not a text-format tensorflow_metadata Schema ({e})") from None


def write_schema(schema, path: str) -> None:
    import os

    from google.protobuf import text_format

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(schema))


def check_class_names(schema, schema_path: str, class_names: Sequence[str], hint: str) -> None:
    """One-line UserError when labels.txt is not the class list the schema was made for."""
    known = schema_class_names(schema)
    difference = contract.class_list_difference(class_names, known) if known else None
    if difference:
        raise UserError(f"{contract.VOCABULARY_FILE} does not match the dataset's schema {schema_path} "
                        f"({len(known)} classes): {difference}; {hint}")
