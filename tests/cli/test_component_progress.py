"""Component progress lines: a ticker redrawn in place on a terminal, plain lines in a log."""

import io
import re
import time

from cli import progress, progress_lines


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _tick_into(stream, monkeypatch):
    monkeypatch.setattr(progress, "ELAPSED_LINE_SECONDS", 0.01)
    monkeypatch.setattr(progress, "REDRAW_SECONDS", 0.01)
    reporter = progress.ComponentProgress(["Transform", "Trainer"], stream)
    reporter.started("Transform")
    deadline = time.time() + 10
    while "running" not in stream.getvalue() and time.time() < deadline:
        time.sleep(0.01)
    reporter.finished("Transform", 1.0, cached=False)
    return stream.getvalue()


def test_not_a_tty_gets_whole_lines_and_no_redraws(monkeypatch):
    out = _tick_into(io.StringIO(), monkeypatch)
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "[snout] (1/2) Transform ..." and lines[-1] == "[snout]     Transform ran in 1.0s"
    assert all(line.startswith("[snout]     Transform running, ") for line in lines[1:-1]) and len(lines) > 2


def test_a_terminal_gets_the_ticker_redrawn_in_place_and_cleared(monkeypatch):
    out = _tick_into(FakeTerminal(), monkeypatch)
    assert "\r\033[K[snout]     Transform running, " in out
    assert out.endswith("\r\033[K[snout]     Transform ran in 1.0s\n")


def test_the_trainer_reports_its_own_epochs_so_gets_no_ticker(monkeypatch):
    monkeypatch.setattr(progress, "ELAPSED_LINE_SECONDS", 0.01)
    stream = io.StringIO()
    reporter = progress.ComponentProgress(["Trainer"], stream)
    reporter.started("Trainer")
    time.sleep(0.1)
    reporter.finished("Trainer", 2.0, cached=False)
    assert "running" not in stream.getvalue()


def _wait_for(stream, text, after=None):
    deadline = time.time() + 10
    while text not in stream.getvalue().split(after or "\0")[-1] and time.time() < deadline:
        time.sleep(0.01)


def test_components_running_at_once_share_one_ticker_line_until_each_ends(monkeypatch):
    monkeypatch.setattr(progress, "REDRAW_SECONDS", 0.01)
    stream = FakeTerminal()
    reporter = progress.ComponentProgress(["Evaluator", "LiteExport"], stream)
    reporter.started("Evaluator")
    reporter.started("LiteExport")
    _wait_for(stream, "; LiteExport running")
    reporter.finished("Evaluator", 1.0, cached=False)
    _wait_for(stream, "LiteExport running", after="Evaluator ran in 1.0s\n")
    reporter.finished("LiteExport", 2.0, cached=False)
    reporter.close()
    out = stream.getvalue()
    assert re.search(r"\r\033\[K\[snout\]     Evaluator running, \d+s; LiteExport running, \d+s", out)
    after = out.split("\r\033[K[snout]     Evaluator ran in 1.0s\n")[1]
    assert "LiteExport running" in after and "Evaluator running" not in after
    assert out.endswith("\r\033[K[snout]     LiteExport ran in 2.0s\n")


def test_the_benches_and_tests_read_back_exactly_what_a_run_prints():
    stream = io.StringIO()
    reporter = progress.ComponentProgress(["ImportExampleGen", "Evaluator"], stream)
    reporter.started("Evaluator")
    reporter.finished("Evaluator", 12.34, cached=False)
    reporter.started("ImportExampleGen")
    reporter.finished("ImportExampleGen", 0.5, cached=True)
    reporter.close()
    out = stream.getvalue()
    assert progress_lines.STARTED.findall(out) == ["Evaluator", "ImportExampleGen"]
    assert progress_lines.FINISHED.findall(out) == [("Evaluator", "ran", "12.3"), ("ImportExampleGen", "cached", "0.5")]
