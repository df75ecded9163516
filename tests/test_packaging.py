"""Packaging that needs no ``sys.path`` edits and shadows nothing.

* No module of ours edits ``sys.path``: the packages are importable from the repository root
  (``python -m benchmarks.turns``, pytest) or installed (``pip install -e .``).
* No benchmark is named like an importable module, so none can shadow one even when run as a
  plain script.
* The project root is computed once, in ``retrieval/paths.py``.
* ``config.yml`` names classes that exist in the tree under those names.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_code_shape import python_files

_LIST_EDITS = {"insert", "append", "extend", "remove", "pop", "clear"}
#: ``Path(__file__)``, maybe resolved, then ``.parent`` hops or ``.parents[n]``.
_FROM_FILE = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?((?:\.parent\b)+|\.parents\[(\d+)\])")


def _is_sys_path(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "path"
            and isinstance(node.value, ast.Name) and node.value.id == "sys")


def sys_path_edits(source: str) -> Iterator[int]:
    """Line numbers where ``source`` changes ``sys.path`` (assigns it, a slice of it, or calls a list method on it).

    >>> sorted(sys_path_edits("import sys\\nsys.path.insert(0, 'x')\\nprint(sys.path)\\nsys.path[:] = []\\n"))
    [2, 4]
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _LIST_EDITS \
                and _is_sys_path(node.func.value):
            yield node.lineno
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            if _is_sys_path(target) or (isinstance(target, ast.Subscript) and _is_sys_path(target.value)):
                yield node.lineno


def roots_computed(relative: Path, source: str) -> Iterator[str]:
    """Each expression in ``source`` that climbs from ``__file__`` to the repository root.

    >>> climb = "Path(__file__)" + ".resolve().parent.parent"
    >>> any(roots_computed(Path("store/db.py"), f"R = {climb}"))
    True
    >>> any(roots_computed(Path("web/console/routes.py"), f"T = {climb} / 'templates'"))  # web/, not the root
    False
    """
    for match in _FROM_FILE.finditer(source):
        hops = int(match.group(2)) + 1 if match.group(2) else match.group(1).count(".parent")
        if hops == len(relative.parts):
            yield match.group(0)


def test_no_module_edits_sys_path() -> None:
    edits = [f"{path}:{line}" for path in python_files()
             for line in sys_path_edits((ROOT / path).read_text(encoding="utf-8"))]
    assert not edits, "sys.path edited (run the module with `python -m` from the repository root instead):\n" + \
        "\n".join(edits)


@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py")))
def test_no_benchmark_is_named_like_an_importable_module(script: str) -> None:
    if script == "__init__":
        return
    # From the repository root, where the benchmarks run: our packages, the standard library and
    # everything installed. A benchmark named like one of them would shadow it as a script.
    assert importlib.util.find_spec(script) is None, f"benchmarks/{script}.py shadows the module {script!r}"


def test_the_project_root_is_computed_once() -> None:
    found = {path.as_posix(): list(roots_computed(path, (ROOT / path).read_text(encoding="utf-8")))
             for path in python_files()}
    assert {path for path, roots in found.items() if roots} == {"retrieval/paths.py"}, \
        "import PROJECT_ROOT from retrieval.paths (tests: ROOT from tests.conftest)"


def test_config_yml_names_classes_that_exist_in_the_tree() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    named = [step["name"] for step in config["pipeline"] + config["policies"] if "." in step["name"]]
    assert named, "config.yml names no component of ours"
    for name in named:
        module, _, cls = name.rpartition(".")
        file = ROOT.joinpath(*module.split(".")).with_suffix(".py")
        assert file.is_file(), f"config.yml names {name}, but there is no {file.relative_to(ROOT)}"
        packages = [ROOT.joinpath(*module.split(".")[:depth]) for depth in range(1, module.count(".") + 1)]
        assert all((package / "__init__.py").is_file() for package in packages), f"{module} is not in a package"
        classes = {node.name for node in ast.parse(file.read_text(encoding="utf-8")).body
                   if isinstance(node, ast.ClassDef)}
        assert cls in classes, f"config.yml names {name}, but {file.relative_to(ROOT)} defines no class {cls}"
