"""No function longer than a screen: every def in the project's Python files is at most 60 lines.

A function is counted from its ``def`` line to the last line of its body (decorators aside), as
``ast`` reports them. Generated Alembic migrations (``store/migrations``) are left out, as are the
environments and build outputs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

MAX_LINES = 60
#: Folders that hold no code of ours (environments, builds, generated migrations).
SKIPPED = {".git", ".venv", ".venv-rasa", "node_modules", "build", "models", "__pycache__", ".pytest_cache",
           ".mypy_cache", ".ruff_cache"}
GENERATED = (Path("store") / "migrations",)


def python_files() -> Iterator[Path]:
    """The project's Python files, relative to the repository root."""
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED.intersection(relative.parts) or any(relative.is_relative_to(g) for g in GENERATED):
            continue
        yield relative


def long_functions(source: str, limit: int = MAX_LINES) -> Iterator[tuple[str, int, int]]:
    """``(qualified name, first line, length)`` of every function in ``source`` longer than ``limit`` lines.

    >>> list(long_functions("def f():\\n    return 1\\n", limit=1))
    [('f', 1, 2)]
    """

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if length > limit:
                    yield name, child.lineno, length
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(source), "")


def offenders() -> dict[tuple[str, str], str]:
    """Every function over the limit in the project: ``(file, qualified name)`` → where and how long."""
    found = {}
    for path in python_files():
        for name, line, length in long_functions((ROOT / path).read_text(encoding="utf-8")):
            found[(path.as_posix(), name)] = f"{path}:{line} {name} ({length} lines)"
    return found


def test_the_scan_sees_the_project() -> None:
    files = {p.as_posix() for p in python_files()}
    assert {"web/console/routes.py", "shopkeeper_cli/main.py", "benchmarks/turns.py", "benchmarks/rasa_probe.py",
            "bot/gateway.py", "tests/test_code_shape.py"} <= files
    assert not any(f.startswith(("store/migrations/", ".venv/", "node_modules/")) for f in files)


def test_no_function_is_longer_than_60_lines() -> None:
    too_long = [where for _, where in sorted(offenders().items())]
    assert not too_long, f"functions over {MAX_LINES} lines (split them into named helpers):\n" + "\n".join(too_long)

