"""Every runtime dependency in pyproject.toml is one the package imports; tools for tests live in extras."""

from __future__ import annotations

import ast
import importlib.metadata
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def _norm(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _imported_modules() -> set[str]:
    names: set[str] = set()
    for py in (ROOT / "vidspec").rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def unused_dependencies(pyproject: str) -> list[str]:
    deps = tomllib.loads(pyproject)["project"]["dependencies"]
    provides = importlib.metadata.packages_distributions()  # import name -> distributions
    used = {_norm(d) for name in _imported_modules() for d in provides.get(name, [])}
    return [d for d in deps if _norm(re.match(r"[A-Za-z0-9._-]+", d).group(0)) not in used]  # type: ignore[union-attr]


def test_every_runtime_dependency_is_imported() -> None:
    assert unused_dependencies((ROOT / "pyproject.toml").read_text("utf-8")) == []


def test_the_test_extra_has_what_the_tests_import() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]
    names = {_norm(re.match(r"[A-Za-z0-9._-]+", d).group(0)) for d in extra["test"]}  # type: ignore[union-attr]
    assert {"jsonschema", "check-jsonschema", "regress", "ruamel-yaml", "pytest"} <= names
