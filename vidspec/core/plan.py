"""plan(graph, lookup) -> what a build would do and spend, per asset, with the reason for each action."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vidspec.core.graph import KIND_LABELS, Asset, Graph, walk_placeholders
from vidspec.core.lock import Lock
from vidspec.core.pricing import usd

Action = Literal["cached", "create", "regenerate", "reuse"]
# A cache lookup: key -> whether the output is there. Injected, so the plan itself does no I/O.
Lookup = Callable[[str], bool]

FIELD_WORDS = {
    "promptText": "prompt", "promptImage": "reference image", "referenceImages": "reference images",
    "videoUri": "input video", "references": "reference images", "character": "character",
    "reference": "performance video", "audioUri": "narration audio", "voice": "voice", "targetLang": "language",
    "contentModeration": "moderation setting",
}  # fmt: skip


@dataclass(frozen=True)
class PlanRow:
    asset: Asset
    key: str
    action: Action
    reason: tuple[str, Any]  # stable code + argument; the view turns it into a sentence

    @property
    def cached(self) -> bool:
        return self.action == "cached"

    @property
    def spends(self) -> bool:
        return self.action in ("create", "regenerate")


@dataclass(frozen=True)
class Plan:
    spec: str
    graph: Graph
    rows: tuple[PlanRow, ...]
    budget: float | None

    @property
    def total_credits(self) -> int:
        """A build from nothing: each distinct request once."""
        return sum(r.asset.credits for r in self.rows if r.action != "reuse")

    @property
    def to_spend_credits(self) -> int:
        return sum(r.asset.credits for r in self.rows if r.spends)

    @property
    def within_budget(self) -> bool:
        return self.budget is None or self.total_credits <= self.budget

    def to_json(self) -> dict[str, Any]:
        scenes = []
        for rs in self.graph.scenes:
            rows = [r for r in self.rows if r.asset.scene_id == rs.id]
            scenes.append({
                "id": rs.id,
                "credits": sum(r.asset.credits for r in rows),
                "assets": [{
                    "kind": r.asset.kind,
                    "label": KIND_LABELS[r.asset.kind],
                    "name": r.asset.name,
                    "model": r.asset.row.model,
                    "endpoint": r.asset.row.endpoint,
                    "credits": r.asset.credits,
                    "cached": r.cached,
                    "action": r.action,
                    "reason": reason_text(r.reason),
                    "reason_code": r.reason[0],
                    "key": r.key,
                } for r in rows],
            })  # fmt: skip
        return {
            "format_version": "1",
            "spec": self.spec,
            "total_credits": self.total_credits,
            "to_spend_credits": self.to_spend_credits,
            "usd": usd(self.total_credits),
            "to_spend_usd": usd(self.to_spend_credits),
            "budget": self.budget,
            "budget_left": None if self.budget is None else self.budget - self.total_credits,
            "within_budget": self.within_budget,
            "scenes": scenes,
        }


def reason_text(reason: tuple[str, Any]) -> str:
    code, arg = reason
    if code == "cached":
        return "cached"
    if code == "new":
        return "new asset"
    if code == "missing":
        return "in the lockfile but missing from the cache"
    if code == "same_request":
        return f"same request as '{arg}'"
    if code == "dep_regenerated":
        return f"depends on regenerated {arg}"
    if code == "changed":
        return ", ".join(arg)
    return str(arg)


def _changes(
    asset: Asset,
    old: Mapping[str, str],
    new: Mapping[str, str],
    regenerated: set[str],
    by_name: Mapping[str, Asset],
) -> tuple[str, Any]:
    changed = sorted(set(old) ^ set(new) | {f for f in new if f in old and old[f] != new[f]})
    words: list[str] = []
    for name in changed:
        value = asset.body.get(name)
        deps = [p["$asset"] for p in walk_placeholders(value) if "$asset" in p]
        regen = [d for d in deps if d in regenerated]
        if regen:
            dep = by_name[regen[0]]
            return ("dep_regenerated", f"{KIND_LABELS[dep.kind]} '{dep.scene_id}'")
        label = FIELD_WORDS.get(name, name)
        if any("$file" in p for p in walk_placeholders(value)):
            words.append(f"{label} bytes changed")
        elif name not in asset.body:
            words.append(f"{label} removed")
        else:
            words.append(f"{label} changed")
    return ("changed", words or ["request changed"])


def make_plan(
    spec: str,
    graph: Graph,
    keys: Mapping[str, str],
    parts: Mapping[str, Mapping[str, str]],
    lookup: Lookup,
    lock: Lock | None = None,
    budget: float | None = None,
) -> Plan:
    rows: list[PlanRow] = []
    first_by_key: dict[str, str] = {}
    regenerated: set[str] = set()
    by_name = graph.by_name()
    for asset in graph.assets:
        key = keys[asset.name]
        if lookup(key):
            rows.append(PlanRow(asset, key, "cached", ("cached", None)))
            continue
        if key in first_by_key:
            rows.append(PlanRow(asset, key, "reuse", ("same_request", first_by_key[key])))
            continue
        first_by_key[key] = asset.name
        regenerated.add(asset.name)
        entry = lock.assets.get(asset.name) if lock else None
        if entry is None:
            rows.append(PlanRow(asset, key, "create", ("new", None)))
        elif entry.key == key:
            rows.append(PlanRow(asset, key, "regenerate", ("missing", None)))
        else:
            why = _changes(asset, entry.parts, parts.get(asset.name, {}), regenerated, by_name)
            rows.append(PlanRow(asset, key, "regenerate", why))
    return Plan(spec, graph, tuple(rows), budget if budget is not None else graph.project.budget)
