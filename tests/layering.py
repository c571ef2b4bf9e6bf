"""The import graph of a package, read from its code: every import form (absolute, relative, `from . import x`,
imports inside functions), resolved to the package's own modules, checked against the layer rule.

Kept apart from the tests so that a test can run it on a small fake package and see it fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# In import order: a module may import its own layer and those before it.
LAYERS = ("errors", "core", "store", "media", "backends", "app")
# Libraries the pure core must never load, even through another module of the package.
CORE_FORBIDDEN = frozenset(
    {
        "httpx",
        "moviepy",
        "PIL",
        "numpy",
        "rich",
        "subprocess",
        "imageio",
        "imageio_ffmpeg",
        "boto3",
        "botocore",
        "obstore",
        "s3fs",
        "fsspec",
        "requests",
        "urllib3",
        "aiohttp",
    }
)


@dataclass
class ImportGraph:
    package: str
    modules: dict[str, Path] = field(default_factory=dict)
    # module -> package modules it imports (as written, parents not included)
    edges: dict[str, set[str]] = field(default_factory=dict)
    # module -> top-level names of libraries outside the package it imports
    external: dict[str, set[str]] = field(default_factory=dict)

    def parents(self, module: str) -> list[str]:
        """The packages whose __init__ runs when `module` is imported."""
        parts = module.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in self.modules]

    def loads(self, module: str) -> set[str]:
        """Every package module that importing `module` runs, transitively (parents included)."""
        seen: set[str] = set()
        todo = [module]
        while todo:
            m = todo.pop()
            if m in seen:
                continue
            seen.add(m)
            todo.extend(self.parents(m))
            todo.extend(self.edges.get(m, ()))
        return seen


def _module_name(root: Path, path: Path, package: str) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [package, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_graph(root: Path, package: str) -> ImportGraph:
    """`root` is the package's directory (the one holding its __init__.py)."""
    graph = ImportGraph(package)
    for path in sorted(root.rglob("*.py")):
        graph.modules[_module_name(root, path, package)] = path
    for name, path in graph.modules.items():
        is_pkg = path.name == "__init__.py"
        here = name if is_pkg else name.rpartition(".")[0]
        edges: set[str] = set()
        external: set[str] = set()

        def add(target: str, edges: set[str] = edges, external: set[str] = external) -> None:
            if target == package or target.startswith(package + "."):
                # the longest prefix that is a module of the package
                parts = target.split(".")
                while parts and ".".join(parts) not in graph.modules:
                    parts.pop()
                if parts:
                    edges.add(".".join(parts))
            else:
                external.add(target.split(".")[0])

        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")
                    if node.level > 1:
                        base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for alias in node.names:
                    sub = f"{mod}.{alias.name}"
                    add(sub if sub in graph.modules else mod)
        edges.discard(name)
        graph.edges[name] = edges
        graph.external[name] = external
    return graph


def layer_of(graph: ImportGraph, module: str) -> int | None:
    """The layer index; None for modules outside the layers (the testing kit)."""
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "errors"  # the package root counts with errors
    if head == "__main__":
        return LAYERS.index("app")
    return LAYERS.index(head) if head in LAYERS else None


def layer_violations(graph: ImportGraph) -> list[str]:
    out = []
    testing = f"{graph.package}.testing"
    for module, targets in sorted(graph.edges.items()):
        mine = layer_of(graph, module)
        for target in sorted(targets):
            if target == testing or target.startswith(testing + "."):
                if not (module == testing or module.startswith(testing + ".")):
                    out.append(f"{module} imports {target}: nothing in the package imports the testing kit")
                continue
            theirs = layer_of(graph, target)
            if mine is None:
                continue
            if theirs is None:
                out.append(f"{module} imports {target}, which belongs to no layer")
            elif theirs > mine:
                out.append(f"{module} ({LAYERS[mine]}) imports {target} ({LAYERS[theirs]})")
    return out


def cycles(graph: ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph.modules):
        if v not in index:
            visit(v)
    return found


def core_leaks(graph: ImportGraph, forbidden: Iterable[str] = CORE_FORBIDDEN) -> list[str]:
    """Core modules that load, directly or through other modules of the package, a forbidden library."""
    bad = frozenset(forbidden)
    core = f"{graph.package}.core"
    out = []
    for module in sorted(graph.modules):
        if not (module == core or module.startswith(core + ".")):
            continue
        for loaded in sorted(graph.loads(module)):
            for lib in sorted(graph.external.get(loaded, set()) & bad):
                via = "" if loaded == module else f" through {loaded}"
                out.append(f"{module} loads {lib}{via}")
    return out
