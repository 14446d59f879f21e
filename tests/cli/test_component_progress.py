"""Component progress lines: a ticker redrawn in place on a terminal, plain lines in a log."""

import io
import time

from cli import progress


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
