"""The report's headline: counts are integers, whatever type TFMA stored them as (issue 18)."""

from contract import evaluation as ev
from report.collect import ReportData
from report.metrics import EvaluationSummary
from report.sections import headline


def test_the_validation_count_is_an_integer():
    report = ReportData(split="test", evaluation=EvaluationSummary(accuracy=1.0, example_count=24),
                        validation={"split": "validation", ev.ACCURACY: 1.0, ev.EXAMPLE_COUNT: 24.0})
    line = headline(report)
    assert "on 24" in line and "24.0" not in line
    assert headline(ReportData(validation={"split": "validation", ev.ACCURACY: 0.5})).count("on n/a") == 1
