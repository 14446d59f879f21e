"""The Evaluator's leak rule: the audit's test images with a near-copy in train (contract/audit.py).

Either they count against --max-leaked-test-share (gate.leak_check), or, with --drop-leaked-test,
the gate grades a copy of the test split without them (written beside the evaluation).
"""

from __future__ import annotations

import os
from typing import Optional, Tuple

from tfx.types import artifact_utils, standard_artifacts

import contract
from contract import audit as names
from contract.evaluation import GateCheck
from components.evaluator import gate

AUDIT_KEY = "audit"
MAX_LEAKED_TEST_SHARE_KEY = "max_leaked_test_share"
DROP_LEAKED_TEST_KEY = "drop_leaked_test"
GRADED_EXAMPLES_DIR = "graded_examples"


def _without_rows(examples, split: str, rows, out_uri: str):
    """An Examples artifact at out_uri whose `split` is the original's minus the given record rows."""
    import tensorflow as tf

    from components.embeddings.component import split_record_files

    files = split_record_files(examples, split)
    folder = f"{out_uri}/Split-{split}"
    tf.io.gfile.makedirs(folder)
    drop = set(int(r) for r in rows)
    # In ExampleGen's own output format (gzip TFRecords), which the Evaluator reads this split as.
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(f"{folder}/data_tfrecord-00000-of-00001.gz", options) as writer:
        for index, record in enumerate(contract.record_dataset(files)):
            if index not in drop:
                writer.write(record.numpy())
    graded = standard_artifacts.Examples()
    graded.uri = out_uri
    graded.split_names = artifact_utils.encode_split_names([split])
    return graded


def apply(audits, input_dict, exec_properties, evaluation_uri: str, split: str) -> Tuple[Optional[GateCheck], dict]:
    """(the leak check or None without an audit, the input_dict the gate's TFMA run should use)."""
    if not audits:
        return None, input_dict
    audit_uri = audits[0].uri
    summary = names.read_audit(audit_uri)
    leaked, total = int(summary.get(names.LEAKED_TEST, 0)), int(summary.get(names.TEST_IMAGES, 0))
    drop = bool(int(exec_properties.get(DROP_LEAKED_TEST_KEY) or 0)) and leaked > 0
    check = gate.leak_check(leaked, total, float(exec_properties.get(MAX_LEAKED_TEST_SHARE_KEY) or 0.0), drop,
                            os.path.join(audit_uri, names.LEAKS_FILE), split)
    if not drop:
        return check, input_dict
    examples = artifact_utils.get_single_instance(input_dict["examples"])
    graded = _without_rows(examples, split, summary.get(names.LEAKED_TEST_INDICES, []),
                           os.path.join(evaluation_uri, GRADED_EXAMPLES_DIR))
    print(f"[snout] evaluator: grading without the {leaked} leaked {split} images ({total - leaked} left)")
    return check, dict(input_dict, examples=[graded])
