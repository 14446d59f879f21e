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

from contract.errors import UserError  # noqa: E402

# Each module has `register(subparsers)`, which adds its sub-commands and sets
# `func` (args -> exit code) on them.
COMMAND_MODULES = [
    "cli.run",
    "cli.tune",
    "cli.predict",
    "cli.serve",
    "cli.ingest",
    "cli.compile_kubeflow",
    "cli.report",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snout",
        description="Labelled photos in, a gated and servable image classifier out (TFX).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    return run_command(build_parser(), argv)


def run_command(parser: argparse.ArgumentParser, argv: Optional[List[str]] = None) -> int:
    """Parses argv and runs the chosen sub-command; user errors become one line and exit 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"snout {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"snout {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
