"""`vidspec lock --check`: does the lockfile still describe the spec, and does the cache hold what it records?

No API call and no spend: keys come from the spec and its inputs, the cache is checked on disk (sha256).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidspec.app.views.plan import reason_text
from vidspec.app.workspace import Workspace
from vidspec.core.plan import CacheStatus, make_plan
from vidspec.store.lockfile import lock_path

CACHE_PROBLEMS = {
    "absent": "in the lockfile but missing from the cache",
    "missing": "cached file missing (the record is there, its file is not)",
    "damaged": "cached file damaged (sha256 mismatch)",
}


@dataclass
class LockCheck:
    lockfile: str
    assets: int
    differences: list[tuple[str, str]] = field(default_factory=list)  # (asset, what differs)

    @property
    def ok(self) -> bool:
        return not self.differences

    def text(self, spec: Path) -> str:
        name = Path(self.lockfile).name
        if self.ok:
            return f"{name} matches {spec} and the cache ({self.assets} assets)"
        lines = [f"{a}: {p}" if a else p for a, p in self.differences]
        n = len(lines)
        head = f"{name} does not match {spec} and the cache ({n} difference{'s' * (n > 1)}):"
        return head + "\n  " + "\n  ".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "lockfile": self.lockfile,
            "ok": self.ok,
            "assets": self.assets,
            "differences": [{"asset": a, "problem": p} for a, p in self.differences],
        }


def check_lock(ws: Workspace) -> LockCheck:
    path = lock_path(ws.spec)
    result = LockCheck(str(path), len(ws.graph.assets))
    if ws.lock is None:
        why = "is not a vidspec lockfile" if path.exists() else "does not exist; a runway build writes it"
        result.differences.append(("", f"{path.name} {why}"))
        return result
    lock = ws.lock
    # Every row as if nothing were cached: the plan's own comparison with the lockfile says what changed.
    rows = make_plan(str(ws.spec), ws.graph, ws.keys, ws.parts, lambda key: CacheStatus("absent"), lock).rows
    store = ws.store
    for row in rows:
        name = row.asset.name
        entry = lock.assets.get(name)
        if entry is None:
            result.differences.append((name, "not in the lockfile"))
        elif entry.key != row.key:
            known = row.reason.code in ("changed", "dep_regenerated")
            why = reason_text(row.reason) if known else "its request changed"
            result.differences.append((name, f"the spec changed since the lockfile was written: {why}"))
        else:
            check = store.check(row.key)
            if check.state != "ok":
                result.differences.append((name, CACHE_PROBLEMS.get(check.state, check.state)))
            elif check.record is not None and check.record.output_sha256 != entry.output_sha256:
                result.differences.append((name, "the cache holds another output than the lockfile records"))
    names = {a.name for a in ws.graph.assets}
    for name in sorted(set(lock.assets) - names):
        result.differences.append((name, "in the lockfile but no longer in the spec"))
    return result
