"""What `snout run` prints when the DAG is done: data check, metrics, calibration, gate sentences, push, edge export."""

from __future__ import annotations

import os

from contract.evaluation import CheckState
from pipeline.config import SnoutConfig

PER_CLASS_LINES_MAX = 10  # more classes: a summary here, the full table in the report
_GATE_STATUS = {CheckState.PASSED: "passed", CheckState.FAILED: "FAILED", CheckState.SKIPPED: "note"}


def print_outcome(config: SnoutConfig, outcome, seconds: float) -> None:
    problems = {split: found for split, found in outcome.data_anomalies.items() if found}
    if not problems:
        print("[snout] data check (ExampleValidator): no anomalies against the schema")
    for split, found in problems.items():
        for feature, description in found.items():
            print(f"[snout] data check: ANOMALY in {split} split, feature {feature!r}: {description}")
    print(f"[snout] {_metrics_line(outcome)}")
    _print_per_class(outcome)
    if outcome.calibration:
        print(f"[snout] {_calibration_line(outcome)}")
    for check in outcome.checks:  # each rule of the gate as a sentence with its numbers
        print(f"[snout] gate {_GATE_STATUS[check.state]}: {check.sentence}")
    if outcome.blessed:
        print("[snout] blessed: yes")
    else:
        print("[snout] blessed: NO - the model failed its gate and was not pushed; the served version is unchanged")
    if outcome.infra_blessed is not None:
        print(f"[snout] infra validation: {'passed' if outcome.infra_blessed else 'FAILED, not pushed'} "
              f"({outcome.infra_reason})")
    if outcome.pushed and outcome.already_served:
        print(f"[snout] model unchanged: already served as version {outcome.pushed_version} at {outcome.pushed_dir}")
    elif outcome.pushed:
        print(f"[snout] pushed model: {outcome.pushed_dir} (version {outcome.pushed_version})")
    _print_lite(config)
    print(f"[snout] done in {seconds:.1f}s")


def _print_lite(config: SnoutConfig) -> None:
    """The edge export's lines (report/lite.py): each TFLite file's size, accuracy, agreement, latency, push."""
    metadata = os.path.abspath(config.metadata_path)
    if not config.lite_export or not os.path.isfile(metadata):
        return
    from report.lite import read_latest, terminal_lines

    try:
        lite = read_latest(metadata, config.pipeline_name)
    except (OSError, ValueError, KeyError) as e:  # the summary must not hide the run's outcome above it
        print(f"[snout] edge export: its record could not be read ({type(e).__name__}: {e})")
        return
    for line in terminal_lines(lite) if lite else ["edge export: no result recorded"]:
        print(f"[snout] {line}")


def _number(value, digits: int = 4) -> str:
    from report.metrics import finite

    return f"{value:.{digits}f}" if finite(value) else "n/a"


def _metrics_line(outcome) -> str:
    """The graded split's accuracy (and top-5), with the validation split's beside it."""
    from contract import evaluation as ev

    line = (f"{outcome.split or 'evaluation'} accuracy {_number(outcome.accuracy)} on {outcome.example_count} "
            f"examples")
    if outcome.top_k_accuracy is not None:
        line += f", top-{ev.TOP_K} {_number(outcome.top_k_accuracy)}"
    v = outcome.validation
    if v:
        count = v.get(ev.EXAMPLE_COUNT)
        count = int(count) if count is not None else "?"  # TFMA stores counts as doubles
        line += f" ({v.get('split')}: accuracy {_number(v.get(ev.ACCURACY))} on {count} examples)"
    return line


def _calibration_line(outcome) -> str:
    c = outcome.calibration
    return (f"calibration: expected calibration error {_number(c.get('ece_before'))} -> {_number(c.get('ece_after'))} "
            f"on the {outcome.split or 'test'} split (temperature {_number(c.get('temperature'), 3)})")


def _class_line(name: str, values: dict) -> str:
    from contract import evaluation as ev

    precision = _number(values.get(ev.PRECISION), 3) if ev.PRECISION in values else "n/a (never predicted)"
    return (f"{name}: precision {precision} recall {_number(values.get(ev.RECALL), 3)} "
            f"({values.get('support', 0)} examples)")


def _print_per_class(outcome) -> None:
    """Every class up to PER_CLASS_LINES_MAX classes; beyond, the classes with the lowest recall."""
    from report.metrics import worst_classes

    per_class = outcome.per_class
    if len(per_class) <= PER_CLASS_LINES_MAX:
        for name, values in per_class.items():
            print(f"[snout]   {_class_line(name, values)}")
        return
    worst = worst_classes(per_class)
    print(f"[snout]   {len(per_class)} classes; lowest recall (the full table is in the report):")
    for name, values in worst:
        print(f"[snout]     {_class_line(name, values)}")
