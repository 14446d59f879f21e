"""Imports flow one way: each snout package imports only the packages below it (README, Layout).

Walks every module's import statements (top-level and function-local) with `ast`, so a
lazy import inside a function counts too.
"""

import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# package -> the snout packages it may import. Read top to bottom: each row sits above the rows
# it names. `contract` is the bottom: feature keys, signatures, record format, vocabulary file.
ALLOWED = {
    "cli": {"report", "pipeline", "components", "trainer", "serving", "ingest", "sample_data", "contract"},
    "report": {"contract"},
    "pipeline": {"components", "trainer", "contract"},
    "components": {"trainer", "serving", "contract"},
    "trainer": {"contract"},
    "serving": {"contract"},
    "ingest": {"contract"},
    "sample_data": {"contract"},
    "contract": set(),
}


def _imported_packages(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in ALLOWED:
                yield node.lineno, top


def _modules():
    for package in ALLOWED:
        for root, _, files in os.walk(os.path.join(REPO, package)):
            for name in files:
                if name.endswith(".py"):
                    yield package, os.path.join(root, name)


def test_every_package_is_in_the_layering():
    packages = {name for name in os.listdir(REPO)
                if os.path.isfile(os.path.join(REPO, name, "__init__.py")) and name != "tests"}
    assert packages == set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_one_way(package):
    upward = []
    for owner, path in _modules():
        if owner != package:
            continue
        for line, imported in _imported_packages(path):
            if imported != package and imported not in ALLOWED[package]:
                upward.append(f"{os.path.relpath(path, REPO)}:{line} imports {imported}")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_the_layering_has_no_cycle():
    order = []
    remaining = dict(ALLOWED)
    while remaining:
        ready = [p for p, deps in remaining.items() if deps <= set(order)]
        assert ready, f"cycle among {sorted(remaining)}"
        order += sorted(ready)
        for p in ready:
            del remaining[p]
