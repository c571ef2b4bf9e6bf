"""Two plans of one spec (a base, e.g. at a git ref, and the working tree) -> what the change adds, removes,
regenerates and keeps, per scene and per asset, with the old and new value of each changed request field.

Assets are matched by name (`<scene id>.<kind>`); a request is compared by its parts (a short hash per wire
field, as the lockfile keeps them), so inputs compare by content: a reference image whose bytes changed is
regenerated, a scene moved to another place is not. Spending is by request: an asset whose request the base
already makes (a renamed scene) costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidspec.core.graph import REQUEST_FIELDS, Asset, AssetKind, AssetRef, FileRef, Reference, Still, dep_of
from vidspec.core.hashing import sha256_hex
from vidspec.core.plan import Plan
from vidspec.core.plan_summary import PlanCounts
from vidspec.core.requests import field_of, sent_fields

Status = Literal["added", "removed", "regenerated", "unchanged"]
SceneStatus = Literal["added", "removed", "changed", "unchanged"]
# regenerated: the field carries another asset's output, which this change makes again
FieldChangeKind = Literal["changed", "bytes_changed", "added", "removed", "regenerated"]
Value = str | int | float | bool | list[str] | None

FIELD_ORDER = ("model", *REQUEST_FIELDS)
DIGEST_SHOWN = 12  # hex digits of a file's sha256 shown beside its path


@dataclass(frozen=True)
class Side:
    """One plan, with what comparing it needs: each asset's request parts and each local input's digest."""

    plan: Plan
    parts: Mapping[str, Mapping[str, str]]  # asset name -> wire field -> short hash
    digests: Mapping[Path, str]  # local input file -> "sha256:<hex>"

    @property
    def keys(self) -> dict[str, str]:
        return {r.asset.name: r.key for r in self.plan.rows}

    def value(self, asset: Asset, name: str) -> Value:
        """A request field as a person reads it: files by path (relative to the spec) and digest."""
        if name == "model":
            return asset.row.model
        raw = getattr(asset, name, None)
        if isinstance(raw, tuple):  # reference images, or a footage trim's [start, end] seconds
            return [self._reference(r) if isinstance(r, Reference) else f"{r:g}" for r in raw]
        if isinstance(raw, AssetRef):
            return f"{raw.name} (generated)"
        if isinstance(raw, Still):  # continuity: a frame of another scene's clip
            clip = f"{raw.clip.name} (generated)" if isinstance(raw.clip, AssetRef) else self._file(raw.clip)
            at = f"{raw.at} frame" if isinstance(raw.at, str) else f"frame at {raw.at:g} s"
            return f"the {at} of {clip}"
        if isinstance(raw, FileRef):
            shown = self._file(raw)
            if name == "image" and asset.image_position != "first":
                shown += f" as the {asset.image_position} frame"
            return shown
        if raw is None or isinstance(raw, (str, int, float, bool)):
            return raw
        return str(raw)

    def _reference(self, ref: Reference) -> str:
        return self._file(ref.ref) + (f" @{ref.tag}" if ref.tag else "")

    def _file(self, ref: FileRef) -> str:
        if ref.url is not None:
            if ref.url.startswith("data:"):  # long and opaque: its media type and digest
                head = ref.url.split(",", 1)[0]
                return f"{head},... (sha256:{sha256_hex(ref.url.encode())[:DIGEST_SHOWN]})"
            return ref.url
        assert ref.path is not None
        shown = Path(os.path.relpath(ref.path, self.plan.graph.base)).as_posix()
        digest = self.digests.get(ref.path)
        return f"{shown} (sha256:{digest.removeprefix('sha256:')[:DIGEST_SHOWN]})" if digest else shown


@dataclass(frozen=True)
class FieldDiff:
    field: str  # vidspec's name ("prompt", "image", "model", ...)
    change: FieldChangeKind
    old: Value
    new: Value


@dataclass(frozen=True)
class AssetDiff:
    name: str
    scene_id: str
    kind: AssetKind
    status: Status
    model_before: str | None
    model_after: str | None
    credits_before: int  # the asset's price on each side (0 where it is absent)
    credits_after: int
    spend: int  # what this change spends on it: its price when the base never makes its request, else 0
    key_before: str | None
    key_after: str | None
    changes: tuple[FieldDiff, ...] = ()
    same_as: str | None = None  # a new name for a request the base makes (or another asset here makes)
    request: tuple[tuple[str, Value], ...] = ()  # added: what it asks for, field by field


@dataclass(frozen=True)
class SceneDiff:
    id: str
    status: SceneStatus
    position_before: int | None  # 0-based place in the film
    position_after: int | None
    moved: bool  # its order among the scenes both sides have changed (free: keys ignore order)
    assets: tuple[AssetDiff, ...]

    @property
    def spend(self) -> int:
        return sum(a.spend for a in self.assets)


@dataclass(frozen=True)
class PlanDiff:
    scenes: tuple[SceneDiff, ...]
    total_before: int  # a build from nothing, on each side
    total_after: int
    base_found: bool  # False: the spec did not exist in the base (everything is added)

    @property
    def assets(self) -> list[AssetDiff]:
        return [a for s in self.scenes for a in s.assets]

    @property
    def delta(self) -> int:
        return self.total_after - self.total_before

    @property
    def spend(self) -> int:
        return sum(a.spend for a in self.assets)

    def counts(self) -> PlanCounts:
        statuses = [a.status for a in self.assets]
        return PlanCounts(
            create=statuses.count("added"),
            regenerate=statuses.count("regenerated"),
            cached=statuses.count("unchanged"),
            removed=statuses.count("removed"),
            to_spend=self.spend,
        )


def _order(name: str) -> int:
    return FIELD_ORDER.index(name) if name in FIELD_ORDER else len(FIELD_ORDER)


def _paths(value: Value) -> list[str]:
    """The file names in a shown value, without digests (so equal names with other digests: bytes changed)."""
    items = value if isinstance(value, list) else [value]
    return [str(v).split(" (sha256:")[0] for v in items]


def _field_changes(old: Asset, new: Asset, base: Side, head: Side, remade: set[str]) -> tuple[FieldDiff, ...]:
    old_parts, new_parts = base.parts.get(old.name, {}), head.parts.get(new.name, {})
    sent_old, sent_new = sent_fields(old), sent_fields(new)
    found: dict[str, FieldDiff] = {}
    for wire in sorted(set(old_parts) | set(new_parts)):
        if old_parts.get(wire) == new_parts.get(wire):
            continue
        name = sent_new.get(wire) or sent_old.get(wire) or field_of(wire)
        before = base.value(old, name) if wire in old_parts else None
        after = head.value(new, name) if wire in new_parts else None
        kind: FieldChangeKind
        if wire not in old_parts:
            kind = "added"
        elif wire not in new_parts:
            kind = "removed"
        elif any(dep_of(r) in remade for f, r in new.inputs() if f == name):
            kind = "regenerated"
        elif (
            before != after
            and _paths(before) == _paths(after)
            and any(isinstance(r, FileRef) and r.path is not None for f, r in new.inputs() if f == name)
        ):
            kind = "bytes_changed"
        else:
            kind = "changed"
        found.setdefault(name, FieldDiff(name, kind, before, after))
    if not found:  # the key changed but no field did: the endpoint (which inputs the scene gives)
        found["endpoint"] = FieldDiff("endpoint", "changed", old.row.endpoint, new.row.endpoint)
    return tuple(sorted(found.values(), key=lambda d: _order(d.field)))


def _moved(before: list[str], after: list[str]) -> set[str]:
    """Scenes whose rank among the scenes both sides have differs: a scene added above another moves nothing."""
    both = set(before) & set(after)
    old = [s for s in before if s in both]
    new = [s for s in after if s in both]
    return {s for i, s in enumerate(new) if old[i] != s}


def diff_plans(base: Side | None, head: Side) -> PlanDiff:
    """``base`` None: the spec does not exist there, and every asset of ``head`` is added."""
    old_assets = base.plan.graph.by_name() if base else {}
    old_keys = base.keys if base else {}
    base_requests = {k: n for n, k in reversed(old_keys.items())}  # key -> first asset that makes it
    new_keys = head.keys
    remade = {n for n, k in new_keys.items() if old_keys.get(n) != k}
    made_here: dict[str, str] = {}  # key -> the asset of head that spends on it
    rows: dict[str, list[AssetDiff]] = {}
    for asset in head.plan.graph.assets:
        key = new_keys[asset.name]
        old = old_assets.get(asset.name)
        same_as = base_requests.get(key) or made_here.get(key)
        spend = 0 if same_as is not None else asset.credits
        made_here.setdefault(key, asset.name)
        request: tuple[tuple[str, Value], ...] = ()
        if old is not None and old_keys[asset.name] == key:
            status: Status = "unchanged"
            changes: tuple[FieldDiff, ...] = ()
            spend, same_as = 0, None
        elif old is not None:
            status = "regenerated"
            assert base is not None
            changes = _field_changes(old, asset, base, head, remade)
        else:
            status, changes = "added", ()
            request = tuple((f, head.value(asset, f)) for f in ("model", *asset.request_fields()))
        rows.setdefault(asset.scene_id, []).append(
            AssetDiff(
                asset.name,
                asset.scene_id,
                asset.kind,
                status,
                old.row.model if old else None,
                asset.row.model,
                old.credits if old else 0,
                asset.credits,
                spend,
                old_keys.get(asset.name),
                key,
                changes,
                same_as,
                request,
            )  # fmt: skip
        )
    for name, old in old_assets.items():
        if name not in new_keys:
            rows.setdefault(old.scene_id, []).append(
                AssetDiff(
                    name,
                    old.scene_id,
                    old.kind,
                    "removed",
                    old.row.model,
                    None,
                    old.credits,
                    0,
                    0,
                    old_keys[name],
                    None,
                )  # fmt: skip
            )
    before = [s.id for s in base.plan.graph.scenes] if base else []
    after = [s.id for s in head.plan.graph.scenes]
    moved = _moved(before, after)
    scenes: list[SceneDiff] = []
    for sid in [*after, *(s for s in before if s not in after)]:
        assets = tuple(rows.get(sid, ()))
        state: SceneStatus
        if sid not in before:
            state = "added"
        elif sid not in after:
            state = "removed"
        elif all(a.status == "unchanged" for a in assets):
            state = "unchanged"
        else:
            state = "changed"
        scenes.append(
            SceneDiff(
                sid,
                state,
                before.index(sid) if sid in before else None,
                after.index(sid) if sid in after else None,
                sid in moved,
                assets,
            )  # fmt: skip
        )
    return PlanDiff(
        tuple(scenes), base.plan.total_credits if base else 0, head.plan.total_credits, base is not None
    )
