"""`snout report`'s figures and page for 120 classes (and 2), from synthetic inputs: fast, no pipeline."""

import re

import numpy as np
import pytest

from report import figures
from report import html as report_html
from report.collect import ReportData
from tests.fixtures.report_page import (SECTION_IDS, png_size, require_chromium, screenshot, sections,
                                        synthetic_report)


def test_figures_for_120_classes():
    report = synthetic_report()
    names = report.class_names
    width, height = png_size(figures.confusion(report.evaluation.confusion, names))
    assert 900 <= width <= 2200 and 900 <= height <= 2200  # readable, not a postage stamp nor a poster
    assert png_size(figures.curves(report.history))[0] > 600
    assert png_size(figures.data_counts(report.data.counts, names))[0] > 600
    p = report.predictions
    predicted = p.predicted
    wrong = p.wrong
    assert wrong  # the synthetic logits make every third image a likely mistake
    grid = figures.prediction_grid([p.images[i] for i in wrong], [p.labels[i] for i in wrong],
                                   [int(predicted[i]) for i in wrong], [0.5] * len(wrong), names)
    assert png_size(grid)[1] > 200
    top = figures.top_k(p.images[:3], p.probabilities[:3], p.labels[:3], names, k=10)
    assert png_size(top)[1] > 300


def test_top_confusions_are_the_largest_off_diagonal_counts():
    matrix = np.array([[5, 2, 0], [7, 1, 1], [0, 0, 9]])
    rows = figures.top_confusions(matrix, ["a", "b", "c"])
    assert rows[0][:3] == ("b", "a", 7) and rows[1][:3] == ("a", "b", 2) and rows[2][:3] == ("b", "c", 1)
    assert abs(rows[0][3] - 7 / 9) < 1e-9
    assert len(rows) == 3


@pytest.fixture(scope="module")
def page_120():
    """The synthetic 120-class report, its figures and its page (drawn once: the figures take seconds)."""
    report = synthetic_report()
    figs = report_html.build_figures(report)
    return report, figs, report_html.render(report, figs)


def test_page_for_120_classes_has_every_section(page_120):
    report, figs, page = page_120
    assert set(figs) == set(report_html.FIGURE_FILES)
    assert sections(page) == SECTION_IDS
    assert page.count("data:image/png;base64,") == len(figs)
    data = report_html.read_embedded_data(page)
    assert data["confusion_total"] == int(report.evaluation.confusion.sum()) == data["example_count"]
    assert len(data["class_names"]) == 120
    assert data["blessed"] is False and data["tuning_trials"] == 2
    # No 120x120 HTML table of counts, but a per-class table with every class.
    assert 'data-cm="' not in page
    assert page.count('data-metric="recall"') == 120
    assert "Top confusions" in page
    assert 'data-status="FAILED"' in page and "is below the minimum 0.8000 (--min-accuracy)" in page
    assert 'data-status="skipped"' in page and "different class list" in page
    # Test split headline with validation beside it; top-5; never "nan".
    assert re.search(r'id="headline">test accuracy <strong data-key="accuracy">0\.\d{4}</strong>.*top-5.*'
                     r'validation accuracy <span data-key="validation_accuracy">0\.6100', page)
    assert not re.search(r"\bnan\b", re.sub(r"base64,[^\"]+", "", page), re.IGNORECASE)
    assert f'data-class="{report.class_names[3]}" data-metric="precision">n/a (never predicted)<' in page
    assert "Lowest recall" in page and report.class_names[0] in page.split("Lowest recall")[1][:400]
    assert "corrupt" in page and "not_rgb" in page
    assert re.search(r"<td>01</td><td>COMPLETED</td><td>0\.6400</td>", page)  # best trial first


def test_page_for_120_classes_renders_in_chromium(page_120, tmp_path):
    require_chromium()
    (tmp_path / "index.html").write_text(page_120[2])
    assert png_size(screenshot(str(tmp_path / "index.html"), tmp_path))[0] >= 1000


def test_page_for_2_classes_shows_counts_in_the_matrix():
    report = synthetic_report(n_classes=2, n_images=6)
    report.tuning = None
    report.data.skipped = {}
    report.history_notes = {"phase2_kept": False}
    page = report_html.render(report, report_html.build_figures(report))
    assert "Phase 2 kept: <strong>no</strong>" in page
    assert page.count('data-cm="') == 4
    assert 'id="no-tuning"' in page and "No tuning in this run" in page
    assert 'id="no-skips"' in page


def test_missing_sections_say_why():
    report = ReportData(class_names=["a", "b"], problems={"curves": "FileNotFoundError: history.json"})
    page = report_html.render(report, report_html.build_figures(report))
    assert sections(page) == SECTION_IDS
    assert "Not available: FileNotFoundError: history.json" in page
