"""One spec on disk with its cache and lockfile: validate, key and plan it (reads files, spends nothing)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from vidspec.core.blame import spec_path
from vidspec.core.budget import BUDGET_CODES
from vidspec.core.diagnostics import format_path
from vidspec.core.graph import Asset, Graph
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.lock import Lock
from vidspec.core.outputs import OutputSpec, project_outputs
from vidspec.core.plan import CacheStatus, Plan, make_plan
from vidspec.core.project_root import ALLOW_PATHS_ENV, ProjectPaths, output_files, output_path, split_allowed
from vidspec.core.select import narrow, select
from vidspec.core.takes import SEED_MAX, Take, draw_takes, locked_takes, replaceable, with_takes
from vidspec.core.validate import Validated, project_name, validate_file
from vidspec.errors import ConfigError, SpecError
from vidspec.media.inspect import inspect_media
from vidspec.store.cache import Cache, Check, LocalStore
from vidspec.store.lockfile import lock_path, read_lock
from vidspec.store.tiered import TeamTier, team_lookup

if TYPE_CHECKING:
    from vidspec.backends.runway.config import RunwayConfig

RUNWAY = "runway"
PREVIEW = "preview"


def allowed_paths(extra: Sequence[Path | str] = ()) -> tuple[Path, ...]:
    """Folders outside the project that inputs may come from: --allow-path, then VIDSPEC_ALLOW_PATHS."""
    return (*(Path(p) for p in extra), *split_allowed(os.environ.get(ALLOW_PATHS_ENV)))


def validate_spec(
    spec: Path,
    *,
    budget: float | None = None,
    cache_dir: Path | str | None = None,
    allow: Sequence[Path | str] = (),
    root: Path | None = None,
) -> Validated:
    """Validate as every command does: inputs and outputs inside the project (outputs out of the cache this
    command uses), and every image and video input looked inside by the media layer."""
    paths = ProjectPaths.for_spec(
        spec, allowed=allowed_paths(allow), cache=Cache.for_spec(spec, cache_dir).root, root=root
    )
    return validate_file(spec, budget=budget, paths=paths, inspect=inspect_media)


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
    takes: dict[str, Take] = field(
        default_factory=dict
    )  # re-rolled seeds in use: the lockfile's and --replace's
    replaced: frozenset[str] = frozenset()  # re-rolled by this command (--replace): a new take each
    selection: frozenset[str] | None = None  # --target: the assets this command makes (None: all)
    team: TeamTier | None = None  # the team cache (--cache-url, VIDSPEC_CACHE_URL), read through

    @classmethod
    def open(
        cls,
        spec: Path,
        *,
        cache_dir: Path | str | None = None,
        namespace: str = RUNWAY,
        budget: float | None = None,
        over_budget_ok: bool = False,
        allow: Sequence[Path | str] = (),
        root: Path | None = None,
        targets: Sequence[str] = (),
        replace: Sequence[str] = (),
        seeds: Mapping[str, int] | None = None,
        cache_url: str | None = None,
    ) -> Workspace:
        """``over_budget_ok``: budget findings (BUDGET_CODES) stay in the diagnostics instead of stopping.
        ``allow``: extra folders inputs may come from (--allow-path), besides VIDSPEC_ALLOW_PATHS.
        ``root``: the project's root, when it is not found from the spec (a snapshot of a git ref).
        ``targets`` (--target): make only these scenes or assets, with their dependencies. ``replace``
        (--replace): a new take of each, with a new random seed, or the one ``seeds`` gives (a saved plan).
        ``cache_url``: the team cache (default VIDSPEC_CACHE_URL; none when unset)."""
        validated = validate_spec(spec, budget=budget, cache_dir=cache_dir, allow=allow, root=root)
        errors = {d.code for d in validated.diagnostics if d.severity == "error"}
        tolerated = over_budget_ok and errors <= BUDGET_CODES
        if validated.graph is None or (errors and not tolerated):
            raise SpecError("the spec has errors", list(validated.diagnostics.sorted()))
        lock = read_lock(spec) if namespace == RUNWAY else None
        graph, takes, replaced = _takes(validated.graph, lock, namespace, replace, seeds)
        selection = select(graph, [*targets, *replaced]) if targets else None
        digest = FileDigests()
        keys = graph_keys(graph, digest, namespace)
        parts = {a.name: key_parts(a, digest, keys) for a in graph.assets}
        cache = Cache.for_spec(spec, cache_dir)
        team = TeamTier.from_url(cache_url, namespace, cache.store(namespace))
        return cls(
            spec,
            validated,
            graph,
            cache,
            namespace,
            keys,
            parts,
            lock,
            takes,
            replaced,
            selection,
            team,
        )

    @property
    def name(self) -> str:
        return project_name(self.graph.project, self.spec)

    def locate(self, asset: Asset, wire_path: Sequence[str | int]) -> str:
        """``file:line:col: scenes[0].image``: where the value at a wire path of the asset's request was written
        (for the `issues` of a 400)."""
        path = spec_path(self.graph, asset, wire_path)
        src = self.validated.source
        pos = src.position(path)
        at = f"{src.file}:{pos[0]}:{pos[1]}" if pos else src.file
        return f"{at}: {format_path(path)}"

    @property
    def store(self) -> LocalStore:
        return self.cache.store(self.namespace)

    def plan(self, budget: float | None = None, *, runway: RunwayConfig | None = None) -> Plan:
        """Every cached object is verified (sha256) first. A damaged or missing one is fetched again from its
        task, unless the task is gone: asked of the API (a free GET, only for such objects) with ``runway``'s
        key (default: the environment's), or remembered from a build that found it gone."""
        statuses = self.cache_statuses(runway)
        graph = narrow(self.graph, self.selection)
        return make_plan(
            str(self.spec),
            graph,
            self.keys,
            self.parts,
            statuses.__getitem__,
            self.lock,
            budget,
            self.replaced,
            spec_assets=[a.name for a in self.graph.assets],
        )

    def read_through(self) -> None:
        """Fetch what the local cache lacks from the team cache (verified), for commands that read the local
        cache directly."""
        if self.team is not None:
            store = self.store
            self.team.check()
            team_lookup(self.team, store, {key: store.check(key) for key in set(self.keys.values())})

    def cache_statuses(self, runway: RunwayConfig | None = None) -> dict[str, CacheStatus]:
        store = self.store
        keys = {self.keys[a.name] for a in narrow(self.graph, self.selection).assets}
        checks = {key: store.check(key) for key in keys}
        if self.team is not None:
            self.team.check()  # a 403 stops every command here, before anything is spent
        tiers, elsewhere = team_lookup(self.team, store, checks) if self.team else ({}, {})
        gone = {k for k, c in checks.items() if c.task_gone}
        if self.namespace == RUNWAY:
            ask = {
                k: c.record.task_id
                for k, c in checks.items()
                if c.state in ("missing", "damaged") and k not in gone and c.record and c.record.task_id
            }
            if ask:
                gone |= _gone_tasks(ask, runway)
        statuses = {k: _status(c, self.namespace, k in gone) for k, c in checks.items()}
        for k, tier in tiers.items():
            statuses[k] = CacheStatus("cached", tier=tier)
        for k, who in elsewhere.items():
            statuses[k] = replace(statuses[k], elsewhere=who)
        return statuses

    def refuse_outputs_outside(self, output: Path) -> None:
        """The last guard before writing `output` and the files beside it (validation already reported it at
        its line): never outside the project, never inside the cache."""
        paths = ProjectPaths.for_spec(self.spec, cache=self.cache.root)
        for file in output_files(output, self.name):
            problem = paths.output_problem(file)
            if problem is not None:
                raise ConfigError(f"not writing {os.path.normpath(file)}: it {problem[1]}")

    def protected_files(self) -> set[Path]:
        """Files no output may overwrite: the spec, its lockfile and every input (resolved)."""
        protected = {self.spec.resolve(), lock_path(self.spec)}
        protected |= {p.resolve() for a in self.graph.assets for p in a.files()}
        if self.graph.project.music is not None:
            protected.add((self.graph.base / self.graph.project.music.path).resolve())
        return protected

    def output_path(self) -> Path:
        """The first output's file (the only one, unless the spec has `outputs:`)."""
        return self.outputs()[0][1]

    def outputs(self) -> list[tuple[OutputSpec, Path]]:
        """Every final cut the spec asks for, with the file it goes to."""
        base = self.spec.resolve().parent
        preview = self.namespace == PREVIEW
        return [
            (out, output_path(base, out.path, self.name, preview=preview))
            for out in project_outputs(self.graph.project, self.graph.scenes, self.name)
        ]


def _takes(
    graph: Graph,
    lock: Lock | None,
    namespace: str,
    replace: Sequence[str],
    seeds: Mapping[str, int] | None,
) -> tuple[Graph, dict[str, Take], frozenset[str]]:
    """The graph with every re-rolled seed in it: the lockfile's that still hold, then this command's."""
    takes = locked_takes(graph, lock)
    fresh: dict[str, Take] = {}
    if replace:
        if namespace != RUNWAY:
            raise ConfigError("--replace makes a new paid take on Runway; the free preview has no takes")
        names = replaceable(graph, replace)
        if seeds is None:
            fresh = draw_takes(graph, names, lambda: secrets.randbelow(SEED_MAX + 1), takes)
        else:
            by_name = graph.by_name()
            fresh = {n: Take(seeds[n], by_name[n].seed) for n in names}
    takes.update(fresh)
    return with_takes(graph, takes), takes, frozenset(fresh)


def _status(check: Check, namespace: str, gone: bool) -> CacheStatus:
    if check.state == "ok":
        return CacheStatus("cached")
    if check.state == "absent":
        return CacheStatus("absent")
    # The preview renders again for free; Runway needs the task that made it.
    task = check.record is not None and check.record.task_id is not None
    local = check.record is not None and check.record.endpoint == "footage"  # cut again from the footage
    return CacheStatus(check.state, refetchable=namespace == PREVIEW or local or (task and not gone))


def _gone_tasks(tasks: Mapping[str, str], runway: RunwayConfig | None) -> set[str]:
    """Keys whose task the API no longer has (404, or SUCCEEDED without an output). Without a key, or when the
    API cannot be asked, nothing is taken as gone: the build finds out, and never pays for it unplanned."""
    import asyncio

    from vidspec.backends.runway.client import RetryPolicy, RunwayClient
    from vidspec.backends.runway.config import RunwayConfig
    from vidspec.errors import RunwayError, TaskNotFound, VidspecError

    config = runway if runway is not None else RunwayConfig.from_env()
    if not config.has_key:
        return set()

    async def ask() -> set[str]:
        gone: set[str] = set()
        limit = asyncio.Semaphore(8)
        async with RunwayClient.from_config(config, retry=RetryPolicy(max_retries=2)) as client:

            async def one(key: str, task_id: str) -> None:
                async with limit:
                    try:
                        task = await client.get_task(task_id)
                    except TaskNotFound:
                        gone.add(key)
                    except RunwayError:
                        pass
                    else:
                        if task.status == "SUCCEEDED" and not task.output:
                            gone.add(key)

            await asyncio.gather(*(one(k, t) for k, t in tasks.items()))
        return gone

    try:
        return asyncio.run(ask())
    except VidspecError:  # a key that cannot be a header, a bad base URL: the build says so
        return set()
