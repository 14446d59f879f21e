"""The edge export on the page and in `snout run`'s summary (report/lite.py), from recorded parity."""

import io
import re

from PIL import Image

from report import lite
from tests.fixtures.lite import lite_summary


def test_summary_lines_give_each_file_its_numbers_and_a_refused_file_its_sentence():
    lines = lite.terminal_lines(lite_summary(int8_passed=False))
    assert lines[0].startswith("edge export (LiteRT, single-thread latency on this CPU; test split, 40 examples): "
                               "SavedModel accuracy 0.9500, 11.50 ms/image, variables 9.70 MB")
    assert lines[1] == ("  model.tflite (float16): 4.80 MB, accuracy 0.9500, agreement 1.0000, 3.10 ms/image (0.27x): "
                        "pushed")
    assert lines[2].endswith("1.50 ms/image (0.13x): NOT pushed")
    assert lines[3].strip().startswith("model_int8.tflite was not pushed: test accuracy 0.7000 vs the SavedModel's")
    assert lines[-1] == "edge models pushed: model.tflite at /nowhere/serving/snout-lite/7 (version 7, the SavedModel's)"


def test_a_failed_export_is_one_line_and_pushes_nothing():
    summary = lite_summary()
    summary.parity = {"split": "test", "error": "the edge export failed: ValueError: no examples", "variants": {}}
    assert lite.terminal_lines(summary) == ["edge export: the edge export failed: ValueError: no examples; nothing "
                                            "pushed (the SavedModel's push does not depend on it)"]
    assert "nothing was pushed" in lite.section(summary, {})


def test_section_tables_every_file_beside_the_saved_model_with_a_chart():
    summary = lite_summary(int8_passed=True)
    figure = lite.figure(summary)
    assert Image.open(io.BytesIO(figure)).format == "PNG"
    page = lite.section(summary, {lite.FIGURE: figure})
    assert 'data-file="lite.png"' in page
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    assert len(rows) == 4  # header, SavedModel, two files
    assert "<td>model_int8.tflite</td><td>int8</td><td>2.90 MB</td><td>0.9500</td>" in rows[3]
    assert rows[3].endswith("<td>pushed</td>")
    assert 'id="lite-pushed">Pushed: version <strong>7</strong>' in page
    assert "No edge export" in lite.section(None, {})
