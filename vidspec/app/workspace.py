"""One spec on disk with its cache and lockfile: validate, key and plan it (reads files, spends nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidspec.core.graph import Graph
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.lock import Lock
from vidspec.core.plan import Plan, make_plan
from vidspec.core.validate import Validated, project_name, validate_file
from vidspec.errors import SpecError
from vidspec.store.cache import Cache, LocalStore
from vidspec.store.lockfile import read_lock

RUNWAY = "runway"
PREVIEW = "preview"


@dataclass
class Workspace:
    spec: Path
    validated: Validated
    graph: Graph
    cache: Cache
    namespace: str
    keys: dict[str, str]
    parts: dict[str, dict[str, str]]
    lock: Lock | None

    @classmethod
    def open(
        cls,
        spec: Path,
        *,
        cache_dir: Path | str | None = None,
        namespace: str = RUNWAY,
        budget: float | None = None,
    ) -> Workspace:
        validated = validate_file(spec, budget=budget)
        if not validated.ok or validated.graph is None:
            raise SpecError("the spec has errors", list(validated.diagnostics.sorted()))
        graph = validated.graph
        digest = FileDigests()
        keys = graph_keys(graph, digest, namespace)
        parts = {a.name: key_parts(a, digest, keys) for a in graph.assets}
        return cls(
            spec,
            validated,
            graph,
            Cache.for_spec(spec, cache_dir),
            namespace,
            keys,
            parts,
            read_lock(spec) if namespace == RUNWAY else None,
        )

    @property
    def name(self) -> str:
        return project_name(self.graph.project, self.spec)

    @property
    def store(self) -> LocalStore:
        return self.cache.store(self.namespace)

    def plan(self, budget: float | None = None) -> Plan:
        store = self.store
        return make_plan(str(self.spec), self.graph, self.keys, self.parts, store.has, self.lock, budget)

    def output_path(self) -> Path:
        out = self.graph.project.output.path
        base = self.spec.resolve().parent
        path = base / out if out else base / "build" / f"{self.name}.mp4"
        if self.namespace == PREVIEW:
            path = path.with_name(f"{path.stem}.preview{path.suffix}")
        return path
