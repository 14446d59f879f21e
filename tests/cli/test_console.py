"""A quiet command: snout's lines on the terminal, every other byte (file descriptors 1/2
included, child processes too) in the log; crashes still show their traceback."""

import os
import re
import subprocess
import sys
import textwrap


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NOISY_COMMAND = textwrap.dedent("""
    import logging, os, subprocess, sys, warnings
    from cli.console import quiet_output
    from trainer.progress import PROGRESS_FD_ENV

    with quiet_output("demo", sys.argv[1], verbose=sys.argv[2] == "verbose"):
        os.write(1, b"c-level stdout noise\\n")
        os.write(2, b"c-level stderr noise\\n")
        subprocess.run(["sh", "-c", "echo child stdout noise; echo child stderr noise >&2"], check=True)
        warnings.warn("python warning noise")
        logging.getLogger("lib").warning("library logging noise")
        print("[snout] one of snout's lines")
        print("[snout] warning: snout's own warning", file=sys.stderr)
        os.write(int(os.environ[PROGRESS_FD_ENV]), b"[snout] progress line\\n")
        if sys.argv[3] == "crash":
            raise RuntimeError("boom")
""")
NOISE = ("c-level stdout noise", "c-level stderr noise", "child stdout noise", "child stderr noise",
         "python warning noise", "library logging noise")
SNOUT_LINES = ("[snout] one of snout's lines", "[snout] warning: snout's own warning", "[snout] progress line")


def _run(tmp_path, mode="quiet", ending="ok"):
    result = subprocess.run([sys.executable, "-c", NOISY_COMMAND, str(tmp_path / "logs"), mode, ending],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True)
    logs = sorted((tmp_path / "logs").glob("demo-*.log")) if (tmp_path / "logs").exists() else []
    return result, (logs[0].read_text() if logs else None)


def test_quiet_keeps_only_snouts_lines_on_the_terminal_and_everything_in_the_log(tmp_path):
    result, log = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    terminal = result.stdout + result.stderr
    for line in SNOUT_LINES:
        assert line in terminal
    non_snout = [line for line in terminal.splitlines() if line.strip() and not line.startswith("[snout]")]
    assert non_snout == []
    assert log is not None and f"[snout] log: {tmp_path / 'logs'}" in result.stdout
    for noise in NOISE:
        assert noise in log
    assert "[snout] one of snout's lines" in log  # the log tells the whole story


def test_verbose_leaves_everything_on_the_terminal(tmp_path):
    result, log = _run(tmp_path, mode="verbose")
    assert result.returncode == 0, result.stderr
    for text in (*NOISE, *SNOUT_LINES):
        assert text in result.stdout + result.stderr
    assert log is None


def test_a_crash_shows_its_traceback_and_the_log_path(tmp_path):
    result, log = _run(tmp_path, ending="crash")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr and "RuntimeError: boom" in result.stderr
    assert "snout demo: failed; the full log is" in result.stderr and str(tmp_path / "logs") in result.stderr
    assert "RuntimeError: boom" in log
    assert not any(noise in result.stdout + result.stderr for noise in NOISE)


def test_a_usage_error_makes_no_log_and_is_one_line(tmp_path, capsys):
    from cli.main import main

    assert main(["run", "--workspace", str(tmp_path / "ws"), "--epochs", "0"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "ws").exists()


def test_quiet_and_verbose_flags_exist_on_the_noisy_commands():
    from cli.main import QUIET_COMMANDS, build_parser

    parser = build_parser()
    for command in QUIET_COMMANDS:
        argv = {"run": ["run"], "tune": ["tune"], "ingest": ["ingest", "src", "--out", "o"],
                "serve": ["serve", "--serving-dir", "s"], "predict": ["predict", "x.jpg"],
                "compare": ["compare", "a", "b", "--out", "o"], "audit": ["audit", "--out", "o"]}[command]
        assert parser.parse_args([*argv, "--verbose"]).verbose is True


# Library lines as TensorFlow/absl/Beam/Python warnings print them.
LIBRARY_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] |[IWEF]\d{4} |WARNING:|INFO:|.*Warning: )")


def test_snout_ingest_in_a_subprocess_prints_only_its_own_lines(tmp_path):
    from tests.fixtures.ingest import make_class_folders

    make_class_folders(str(tmp_path / "photos"), n_cat=3, n_dog=3)
    result = subprocess.run([sys.executable, "-m", "cli", "ingest", str(tmp_path / "photos"),
                             "--out", str(tmp_path / "data"), "--no-progress"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    terminal = (result.stdout + result.stderr).splitlines()
    assert [line for line in terminal if LIBRARY_LINE.match(line)] == []
    assert result.stdout.startswith(f"[snout] log: {tmp_path / 'logs'}")
    assert "snout ingest: " in result.stdout and len(terminal) < 15
    log = next((tmp_path / "logs").glob("ingest-*.log")).read_text().splitlines()
    assert any(LIBRARY_LINE.match(line) for line in log)  # they were there, and went to the log
