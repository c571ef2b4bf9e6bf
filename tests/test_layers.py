"""The floor plan, enforced: the layer rule, no cycles, a pure core. And proof that the check can fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.layering import CORE_FORBIDDEN, LAYERS, core_leaks, cycles, layer_of, layer_violations, read_graph

PACKAGE = Path(__file__).resolve().parents[1] / "vidspec"


def test_every_module_of_the_package_sits_in_a_layer() -> None:
    graph = read_graph(PACKAGE, "vidspec")
    homeless = [
        m for m in graph.modules if layer_of(graph, m) is None and not m.startswith("vidspec.testing")
    ]
    assert homeless == []
    for layer in LAYERS[1:]:
        assert f"vidspec.{layer}" in graph.modules, layer


def test_the_package_keeps_the_layer_rule() -> None:
    assert layer_violations(read_graph(PACKAGE, "vidspec")) == []


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(read_graph(PACKAGE, "vidspec")) == []


def test_the_core_loads_no_io_library() -> None:
    assert core_leaks(read_graph(PACKAGE, "vidspec")) == []


def test_importing_the_core_loads_no_io_library_at_run_time() -> None:
    graph = read_graph(PACKAGE, "vidspec")
    core = [m for m in graph.modules if m.startswith("vidspec.core")]
    code = (
        "import importlib, sys\n"
        f"for m in {core!r}: importlib.import_module(m)\n"
        f"print(sorted(n for n in {sorted(CORE_FORBIDDEN)!r} if n in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


# ---- the check itself can fail ----------------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    base = {
        "__init__.py": "",
        "errors.py": "",
        "core/__init__.py": "",
        "core/spec.py": "import json\n",
        "core/plan.py": "from pkg.core.spec import x\n",
        "store/__init__.py": "",
        "store/cache.py": "from pkg.core import spec\n",
        "backends/__init__.py": "",
        "backends/client.py": "import httpx\n",
        "app/__init__.py": "",
        "app/cli.py": "from pkg.backends import client\n",
        "testing/__init__.py": "from pkg.app import cli\n",
    }
    for rel, text in {**base, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_clean_fake_package_passes(tmp_path: Path) -> None:
    graph = read_graph(_package(tmp_path, {}), "pkg")
    assert layer_violations(graph) == [] and cycles(graph) == [] and core_leaks(graph) == []


@pytest.mark.parametrize(
    "source",
    [
        "import pkg.backends.client\n",
        "from pkg.backends import client\n",
        "from pkg.backends.client import thing\n",
        "from ..backends import client\n",
        "from ..backends.client import thing\n",
        "from .. import app\n",
        "from pkg import store\n",
        "def later():\n    from pkg.store.cache import Cache\n",
        "from pkg.testing import x\n",
    ],
)
def test_a_core_module_importing_upwards_fails(tmp_path: Path, source: str) -> None:
    graph = read_graph(_package(tmp_path, {"core/plan.py": source}), "pkg")
    assert any(v.startswith("pkg.core.plan ") for v in layer_violations(graph)), layer_violations(graph)


@pytest.mark.parametrize(
    "lib", ["httpx", "subprocess", "moviepy.editor", "PIL.Image", "numpy", "rich", "boto3"]
)
def test_a_core_module_loading_a_forbidden_library_fails(tmp_path: Path, lib: str) -> None:
    direct = read_graph(_package(tmp_path / "a", {"core/plan.py": f"import {lib}\n"}), "pkg")
    assert any(v.startswith("pkg.core.plan loads") for v in core_leaks(direct))
    # through another core module, by a relative `from . import` form
    indirect = read_graph(
        _package(
            tmp_path / "b",
            {"core/spec.py": f"from {lib} import something\n", "core/plan.py": "from . import spec\n"},
        ),
        "pkg",
    )
    assert "pkg.core.plan loads " + lib.split(".")[0] + " through pkg.core.spec" in core_leaks(indirect)


def test_a_forbidden_library_in_the_package_root_leaks_into_the_core(tmp_path: Path) -> None:
    graph = read_graph(_package(tmp_path, {"__init__.py": "import subprocess\n"}), "pkg")
    assert "pkg.core.spec loads subprocess through pkg" in core_leaks(graph)


def test_a_cycle_fails(tmp_path: Path) -> None:
    graph = read_graph(
        _package(
            tmp_path,
            {"core/spec.py": "from pkg.core.plan import y\n", "core/plan.py": "from . import spec\n"},
        ),
        "pkg",
    )
    assert cycles(graph) == [["pkg.core.plan", "pkg.core.spec"]]


def test_the_testing_kit_is_not_imported_by_the_package(tmp_path: Path) -> None:
    graph = read_graph(_package(tmp_path, {"app/cli.py": "import pkg.testing\n"}), "pkg")
    assert (
        "pkg.app.cli imports pkg.testing: nothing in the package imports the testing kit"
        in layer_violations(graph)
    )
