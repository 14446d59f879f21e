"""The `snout` command: one sub-command per job, each registered by its own module."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

# Before anything imports TensorFlow: the Keras rule (trainer/keras_compat.py) and quiet C++ INFO logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
import trainer.keras_compat  # noqa: E402,F401

from cli.console import quiet_output  # noqa: E402
from cli.predict_lite import is_lite  # noqa: E402
from cli.predict_offline import is_offline  # noqa: E402
from contract.errors import UserError  # noqa: E402

# Each module has `register(subparsers)`, which adds its sub-commands and sets
# `func` (args -> exit code) on them.
COMMAND_MODULES = [
    "cli.run",
    "cli.tune",
    "cli.predict",
    "cli.serve",
    "cli.ingest",
    "cli.audit",
    "cli.compile_kubeflow",
    "cli.report",
    "cli.compare",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snout",
        description="Labelled photos in, a gated and servable image classifier out (TFX).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in QUIET_COMMANDS:
        subparsers.choices[command].add_argument(
            "--verbose", action="store_true",
            help="show TensorFlow/Beam/absl output and warnings here instead of only in the log file")
    return parser


def _workspace_logs(args) -> str:
    """<workspace>/logs; building the config first means a bad flag fails before any log is made."""
    from cli.run import config_from_args

    return os.path.join(config_from_args(args).workspace, "logs")


def _logs_beside(path: str) -> str:
    """For commands without a workspace: `logs/` beside their output folder."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), "logs")


# Commands whose library output goes to a log file (cli/console.py), and where that file goes.
QUIET_COMMANDS = {
    "run": _workspace_logs,
    "tune": _workspace_logs,
    "ingest": lambda args: importlib.import_module("cli.ingest").log_dir(args),  # checks --out first
    "audit": lambda args: importlib.import_module("cli.audit").log_dir(args),
    "serve": lambda args: _logs_beside(args.serving_dir),
    # Only offline prediction (a Beam job, or a .tflite file) is noisy; a server client's output stays as it is.
    "predict": lambda args: _logs_beside(args.out) if is_offline(args) or is_lite(args) else None,
    "compare": lambda args: importlib.import_module("cli.compare").log_dir(args),  # checks the runs and --out first
}


def main(argv: Optional[List[str]] = None) -> int:
    return run_command(build_parser(), argv)


def run_command(parser: argparse.ArgumentParser, argv: Optional[List[str]] = None) -> int:
    """Parses argv and runs the chosen sub-command; user errors become one line and exit 2."""
    args = parser.parse_args(argv)
    try:
        log_dir = QUIET_COMMANDS[args.command](args) if args.command in QUIET_COMMANDS else None
        if log_dir is None:
            return int(args.func(args) or 0)
        with quiet_output(args.command, log_dir, args.verbose):
            return int(args.func(args) or 0)
    except UserError as e:
        print(f"snout {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"snout {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
