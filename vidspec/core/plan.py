"""plan(graph, lookup) -> what a build would do and spend, per asset, with the reason for each action."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from vidspec.core.budget import budget_limit, within_budget
from vidspec.core.graph import Asset, FileRef, Graph, dep_of
from vidspec.core.lock import Lock
from vidspec.core.requests import field_of, sent_fields

Action = Literal["cached", "create", "regenerate", "reuse", "refetch"]
ReasonCode = Literal[
    "cached", "new", "missing", "same_request", "dep_regenerated", "changed", "damaged", "file_missing",
    "task_gone", "replaced",
]  # fmt: skip
CacheState = Literal["cached", "absent", "missing", "damaged"]
Tier = Literal["local", "team"]


@dataclass(frozen=True)
class CacheStatus:
    """What the cache holds for a key. missing: the record is there but its file is not; damaged: the file's
    bytes do not match the record's sha256. ``refetchable``: the recorded task (or a free re-render) can give
    the file again; when False the output must be generated again, for credits."""

    state: CacheState
    refetchable: bool = True
    tier: Tier = "local"  # cached: which cache tier had it (team: fetched from the team cache, verified)
    elsewhere: str | None = None  # not cached, but another builder holds the lease on it (who, in words)


# A cache lookup: key -> whether the output is there (a bool), or a CacheStatus. Injected, so the plan itself
# does no I/O.
Lookup = Callable[[str], "bool | CacheStatus"]
Change = Literal["changed", "bytes_changed", "removed"]


@dataclass(frozen=True)
class FieldChange:
    field: str  # vidspec's name for the request field ("prompt", "image", ...)
    change: Change  # bytes_changed: the field holds a local file, so its content changed


@dataclass(frozen=True)
class Reason:
    """Why a row does what it does, as data; app/views/plan.py says it in words."""

    code: ReasonCode
    same_as: str | None = None  # same_request: the asset that makes this request
    dependency: Asset | None = None  # dep_regenerated: the dependency that is made again
    changes: tuple[FieldChange, ...] = ()  # changed: what changed, by field (empty: the request as a whole)
    cache: CacheState | None = None  # task_gone: what happened to the cached file ("missing" or "damaged")


@dataclass(frozen=True)
class PlanRow:
    asset: Asset
    key: str
    action: Action
    reason: Reason
    tier: Tier | None = None  # cached rows: the tier the output came from
    elsewhere: str | None = None  # a create another builder is making now (a build waits for it)

    @property
    def cached(self) -> bool:
        return self.action == "cached"

    @property
    def spends(self) -> bool:
        return self.action in ("create", "regenerate")

    @property
    def refetch(self) -> bool:
        """The cached file is fetched again from its task (or re-rendered by the free preview): no credits."""
        return self.action == "refetch"


@dataclass(frozen=True)
class Plan:
    spec: str
    graph: Graph
    rows: tuple[PlanRow, ...]
    budget: float | None
    removed: tuple[str, ...] = ()  # assets in the lockfile that the spec no longer has, by name

    @property
    def total_credits(self) -> int:
        """A build from nothing: each distinct request once."""
        return sum(r.asset.credits for r in self.rows if r.action != "reuse")

    @property
    def to_spend_credits(self) -> int:
        return sum(r.asset.credits for r in self.rows if r.spends)

    @property
    def within_budget(self) -> bool:
        return within_budget(self.total_credits, self.budget)


def _changes(
    asset: Asset,
    old: Mapping[str, str],
    new: Mapping[str, str],
    regenerated: set[str],
    by_name: Mapping[str, Asset],
) -> Reason:
    """Compare the request's parts (short hashes by wire field, as the lockfile keeps them) field by field."""
    sent = sent_fields(asset)
    found: list[FieldChange] = []
    for wire in sorted(set(old) ^ set(new) | {f for f in new if f in old and old[f] != new[f]}):
        name = sent.get(wire) or field_of(wire)
        refs = [ref for f, ref in asset.inputs() if f == name] if wire in sent else []
        regen = [d for r in refs if (d := dep_of(r)) is not None and d in regenerated]
        if regen:
            return Reason("dep_regenerated", dependency=by_name[regen[0]])
        if any(isinstance(r, FileRef) and r.path is not None for r in refs):
            found.append(FieldChange(name, "bytes_changed"))
        elif wire not in sent:
            found.append(FieldChange(name, "removed"))
        else:
            found.append(FieldChange(name, "changed"))
    return Reason("changed", changes=tuple(found))


def make_plan(
    spec: str,
    graph: Graph,
    keys: Mapping[str, str],
    parts: Mapping[str, Mapping[str, str]],
    lookup: Lookup,
    lock: Lock | None = None,
    budget: float | None = None,
    replaced: Collection[str] = (),
    spec_assets: Collection[str] | None = None,
) -> Plan:
    """``replaced``: assets re-rolled by this build (--replace): a new take, whatever the lockfile says.
    ``spec_assets``: every asset the spec makes, when ``graph`` is narrowed (--target); default its own."""
    rows: list[PlanRow] = []
    first_by_key: dict[str, str] = {}
    regenerated: set[str] = set()
    by_name = graph.by_name()
    for asset in graph.assets:
        key = keys[asset.name]
        found = lookup(key)
        status = found if isinstance(found, CacheStatus) else CacheStatus("cached" if found else "absent")
        if status.state == "cached":
            rows.append(PlanRow(asset, key, "cached", Reason("cached"), tier=status.tier))
            continue
        if key in first_by_key:
            rows.append(PlanRow(asset, key, "reuse", Reason("same_request", same_as=first_by_key[key])))
            continue
        first_by_key[key] = asset.name
        if status.state in ("missing", "damaged"):
            if status.refetchable:  # the same output again: dependents are unaffected
                code: ReasonCode = "damaged" if status.state == "damaged" else "file_missing"
                rows.append(PlanRow(asset, key, "refetch", Reason(code)))
            else:
                regenerated.add(asset.name)
                rows.append(PlanRow(asset, key, "regenerate", Reason("task_gone", cache=status.state)))
            continue
        regenerated.add(asset.name)
        entry = lock.assets.get(asset.name) if lock else None
        if asset.name in replaced:
            row = PlanRow(asset, key, "create" if entry is None else "regenerate", Reason("replaced"))
        elif entry is None:
            row = PlanRow(asset, key, "create", Reason("new"))
        elif entry.key == key:
            row = PlanRow(asset, key, "regenerate", Reason("missing"))
        else:
            why = _changes(asset, entry.parts, parts.get(asset.name, {}), regenerated, by_name)
            row = PlanRow(asset, key, "regenerate", why)
        # Priced all the same: if the other builder fails, this build makes it.
        rows.append(replace(row, elsewhere=status.elsewhere) if status.elsewhere else row)
    known = set(by_name) if spec_assets is None else set(spec_assets)
    gone = tuple(sorted(set(lock.assets) - known)) if lock else ()
    return Plan(spec, graph, tuple(rows), budget_limit(budget, graph.project.budget), gone)
