"""TFX's Evaluator executor, with snout's gate applied to TFMA's results.

0. When the candidate is the very model the baseline's blessing blessed, under the same grading
   key (an unchanged rerun), nothing is graded again: the stored evaluation is reused (reuse.py).

1. Pick the baseline: the Resolver's latest blessed model, or (baseline="served") the
   newest version under the push destination; dropped when its class list differs.
2. TFX's executor runs TFMA on the gate's split (and writes TFMA's blessing for --min-accuracy); with
   the data audit and --drop-leaked-test, on a copy of it without the leaked images (leaks.py).
3. The candidate's summary metrics on the validation split, for the report (validation.py: the
   exported model run over the split, without a second TFMA pipeline).
4. The no-regression rule (gate.py) on TFMA's paired counts, and the leak rule on the audit's
   count of test images with a near-copy in train; the blessing is rewritten when one fails, and
   every check is written as a sentence with its numbers to gate.json.
"""

from __future__ import annotations

import os
from typing import List, Optional

import tensorflow_model_analysis as tfma
from absl import logging
from tfx.components.evaluator import constants
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs as specs
from tfx.utils import io_utils, json_utils, path_utils, proto_utils

import contract
from contract import evaluation as ev
from components.evaluator import calibration, gate, leaks, reuse, validation

SERVED_MODEL_DIR_KEY = "served_model_dir"
VALIDATION_SPLIT_KEY = "validation_split"
MAX_ACCURACY_DROP_KEY = "max_accuracy_drop"
MIN_ACCURACY_KEY = "min_accuracy"


def model_class_names(model_dir: str) -> Optional[List[str]]:
    """The class list an exported snout model was trained for (its assets.extra/labels.txt)."""
    path = os.path.join(model_dir, contract.MODEL_EXTRA_DIR, contract.VOCABULARY_FILE)
    if not fileio.exists(path):
        return None
    return [line for line in io_utils.read_string_file(path).splitlines() if line.strip()]


def served_version_dir(serving_base: str) -> Optional[str]:
    """The version TF Serving serves by default under `serving_base`: the highest number holding a model."""
    if not serving_base or not fileio.isdir(serving_base):
        return None
    versions = sorted((v.strip("/") for v in fileio.listdir(serving_base) if v.strip("/").isdigit()), key=int)
    for version in reversed(versions):
        candidate = os.path.join(serving_base, version)
        if fileio.exists(os.path.join(candidate, "saved_model.pb")):
            return candidate
    return None


def eval_shared_model(eval_saved_model_path: str, **kwargs):
    """TFX's custom_eval_shared_model hook: a served version dir is itself the SavedModel (the
    Pusher copies Format-Serving's content), so TFX's <uri>/Format-Serving falls back to <uri>."""
    if not fileio.exists(os.path.join(eval_saved_model_path, "saved_model.pb")):
        parent = os.path.dirname(eval_saved_model_path.rstrip("/"))
        if fileio.exists(os.path.join(parent, "saved_model.pb")):
            eval_saved_model_path = parent
    return tfma.default_eval_shared_model(eval_saved_model_path=eval_saved_model_path, **kwargs)


class Executor(tfx_evaluator.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        input_dict = dict(input_dict)
        exec_properties = dict(exec_properties, custom_eval_shared_model=f"{__name__}.{eval_shared_model.__name__}")
        candidate = artifact_utils.get_single_instance(input_dict[specs.MODEL_KEY])
        candidate_dir = path_utils.serving_model_path(candidate.uri, path_utils.is_old_model_artifact(candidate))
        baseline_blessing = (input_dict.pop(reuse.BASELINE_BLESSING_KEY, None) or [None])[0]
        audit = input_dict.pop(leaks.AUDIT_KEY, None) or []
        baseline, baseline_info = self._baseline(input_dict, exec_properties, model_class_names(candidate_dir) or [])
        temperature = calibration.model_temperature(candidate_dir)
        exec_properties[specs.EVAL_CONFIG_KEY] = calibration.config_with_temperature(
            exec_properties[specs.EVAL_CONFIG_KEY], temperature)
        if baseline is None:
            input_dict.pop(specs.BASELINE_MODEL_KEY, None)
        else:
            input_dict[specs.BASELINE_MODEL_KEY] = [baseline]
        evaluation_uri = artifact_utils.get_single_uri(output_dict[specs.EVALUATION_KEY])
        blessing = artifact_utils.get_single_instance(output_dict[specs.BLESSING_KEY])
        key = reuse.grading_key(exec_properties, input_dict[specs.EXAMPLES_KEY], audit)
        stored = None
        if baseline is not None and reuse.same_model(candidate, baseline, candidate_dir, baseline_info["model_dir"]):
            stored = reuse.stored_evaluation(baseline_blessing, key)
        if stored:
            print(f"[snout] Evaluator: the candidate is the model already blessed (same model as the baseline); "
                  f"reusing its evaluation ({stored}), nothing graded again")
            result = reuse.reuse(stored, evaluation_uri, baseline_info,
                                 float(exec_properties.get(MAX_ACCURACY_DROP_KEY) or 0.0))
            _describe_models(blessing, input_dict, exec_properties)
        else:
            result = self._grade(input_dict, output_dict, exec_properties, candidate_dir, baseline_info, audit)
            result.calibration = calibration.read(evaluation_uri, temperature)
        if baseline is not None and exec_properties.get(SERVED_MODEL_DIR_KEY):
            # A served version is no MLMD artifact: TFX recorded id 0 as its id, which KFP's v2 entrypoint
            # fails to map to an artifact name (KeyError: 0). gate.json names the served version instead.
            blessing.mlmd_artifact.custom_properties.pop(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, None)
        ev.write_gate(evaluation_uri, result)
        _write_blessing(blessing, result.blessed)
        blessing.set_string_custom_property(reuse.EVALUATION_URI_PROPERTY, evaluation_uri)
        blessing.set_string_custom_property(reuse.GRADING_KEY_PROPERTY, key)
        for check in result.checks:
            logging.info("gate: %s", check.sentence)

    def _grade(self, input_dict, output_dict, exec_properties, candidate_dir: str, baseline_info: dict, audit):
        """TFMA on the gate's split (TFX's executor), the gate on its results, the validation summary beside it."""
        evaluation_uri = artifact_utils.get_single_uri(output_dict[specs.EVALUATION_KEY])
        (split,) = json_utils.loads(exec_properties[specs.EXAMPLE_SPLITS_KEY])  # the gate's one split
        leak_check, graded_inputs = leaks.apply(audit, input_dict, exec_properties, evaluation_uri, split)
        super().Do(graded_inputs, output_dict, exec_properties)
        result = self._decide(evaluation_uri, exec_properties, split, baseline_info)
        if leak_check is not None:
            result.checks.append(leak_check)
            result.blessed = result.blessed and leak_check.passed
        result.validation = self._validation(input_dict, exec_properties, candidate_dir)
        return result

    def _baseline(self, input_dict, exec_properties, candidate_classes: List[str]):
        """(baseline Model artifact or None, description for gate.json)."""
        served_base = exec_properties.get(SERVED_MODEL_DIR_KEY)
        info = {"source": "served" if served_base else "resolver"}
        if served_base:
            version_dir = served_version_dir(served_base)
            if version_dir is None:
                info["skipped"] = f"no model is served under {served_base} yet"
                return None, info
            baseline = standard_artifacts.Model()
            baseline.uri = version_dir
            info.update(model_dir=version_dir, version=os.path.basename(version_dir))
            model_dir = version_dir
        else:
            found = input_dict.get(specs.BASELINE_MODEL_KEY) or []
            if not found:
                info["skipped"] = "no baseline model (no model was blessed before)"
                return None, info
            baseline = found[0]
            model_dir = path_utils.serving_model_path(baseline.uri, path_utils.is_old_model_artifact(baseline))
            info["model_dir"] = model_dir
        mismatch = gate.class_list_mismatch(candidate_classes, model_class_names(model_dir))
        info["same_classes"] = mismatch is None
        if mismatch:
            info["skipped"] = mismatch
            return None, info
        return baseline, info

    def _decide(self, evaluation_uri: str, exec_properties, split: str, baseline_info: dict) -> ev.GateResult:
        overall = ev.metric_values(evaluation_uri).get(None, {})

        def value(name, model=ev.CANDIDATE, is_diff=False):
            return overall.get((name, model, is_diff, None))

        count = value(ev.EXAMPLE_COUNT)
        count = int(count) if count is not None else None
        min_accuracy = float(exec_properties[MIN_ACCURACY_KEY])
        max_drop = float(exec_properties.get(MAX_ACCURACY_DROP_KEY) or 0.0)
        checks = [gate.min_accuracy_check(value(ev.ACCURACY), min_accuracy, count, split)]
        checks += _tfma_failures(evaluation_uri, split, checks[0])
        paired = [value(name, is_diff=True) for name in (ev.CANDIDATE_ONLY_CORRECT, ev.BASELINE_ONLY_CORRECT)]
        if baseline_info.get("skipped"):
            checks.append(gate.skipped_regression_check(baseline_info["skipped"], max_drop))
        elif None in paired + [value(ev.ACCURACY), value(ev.ACCURACY, ev.BASELINE)]:  # fail closed
            checks.append(gate.uncomputed_regression_check(max_drop))
        else:
            baseline_info["accuracy"] = value(ev.ACCURACY, ev.BASELINE)
            checks.append(gate.regression_check(value(ev.ACCURACY), baseline_info["accuracy"], int(paired[0]),
                                                int(paired[1]), count, max_drop, split))
        blessed = not any(c.state is ev.CheckState.FAILED for c in checks)
        return ev.GateResult(blessed=blessed, split=split, example_count=count, checks=checks, baseline=baseline_info)

    def _validation(self, input_dict, exec_properties, candidate_dir: str) -> dict:
        """The candidate's summary metrics on the validation split (no thresholds, no blessing): the
        exported model run over the split directly, the numbers TFMA's summary pass gave (validation.py)."""
        split = exec_properties.get(VALIDATION_SPLIT_KEY)
        examples = input_dict[specs.EXAMPLES_KEY]
        if not split or split not in artifact_utils.decode_split_names(examples[0].split_names):
            return {}
        config = tfma.EvalConfig()
        proto_utils.json_to_proto(exec_properties[specs.EVAL_CONFIG_KEY], config)
        top_k = any(m.class_name == "SparseTopKCategoricalAccuracy" for spec in config.metrics_specs
                    for m in spec.metrics)
        files = sorted(fileio.glob(io_utils.all_files_pattern(artifact_utils.get_split_uri(examples, split))))
        found = validation.validation_summary(candidate_dir, files, ev.TOP_K + 1 if top_k else ev.TOP_K)
        return {"split": split, **found}


def _tfma_failures(evaluation_uri: str, split: str, accuracy_check: ev.GateCheck) -> List[ev.GateCheck]:
    """TFMA threshold failures other than the accuracy lower bound already stated (e.g. a custom config's)."""
    found = []
    for per_slice in tfma.load_validation_result(evaluation_uri).metric_validations_per_slice:
        keys = per_slice.slice_key.single_slice_keys
        where = ", ".join(f"{k.column}={getattr(k, k.WhichOneof('kind'))}" for k in keys)
        for failure in per_slice.failures:
            if failure.metric_key.name == accuracy_check.metric and not keys and not failure.metric_key.is_diff:
                continue
            value = failure.metric_value.double_value.value if failure.metric_value.HasField("double_value") else None
            shown = f"{value:.4f}" if value is not None else "not computed"
            found.append(ev.GateCheck(
                name="tfma_threshold", state=ev.CheckState.FAILED,
                sentence=f"{split} {failure.metric_key.name}{' change' if failure.metric_key.is_diff else ''} {shown} "
                         f"on the {where or 'overall'} slice failed its threshold: "
                         f"{failure.message or 'outside the bound'}",
                metric=failure.metric_key.name, slice=where or "overall", value=value))
    return found


def _describe_models(blessing, input_dict, exec_properties) -> None:
    """The custom properties TFX's Evaluator sets on its blessing (the Resolver finds models by them)."""
    model = input_dict[specs.MODEL_KEY][0]
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    baseline = (input_dict.get(specs.BASELINE_MODEL_KEY) or [None])[0]
    if baseline is not None:
        blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline.uri)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline.id)
    if "current_component_id" in exec_properties:
        blessing.set_string_custom_property("component_id", exec_properties["current_component_id"])


def _write_blessing(blessing, blessed: bool) -> None:
    """The BLESSED/NOT_BLESSED marker the Pusher checks, and the artifact's property, as decided."""
    for name in (constants.BLESSED_FILE_NAME, constants.NOT_BLESSED_FILE_NAME):
        path = os.path.join(blessing.uri, name)
        if fileio.exists(path):
            fileio.remove(path)
    marker = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, marker), "")
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                     constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE)
