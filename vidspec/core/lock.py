"""The lockfile `<spec stem>.lock.json`: what each asset was built from and what came out.

Stable and sorted so that its diffs in review are small. Reading and writing happen in store.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

LOCK_VERSION = 1


@dataclass(frozen=True)
class LockEntry:
    key: str
    kind: str
    model: str
    task_id: str | None
    output_sha256: str
    duration: float | None
    seed: int | None
    credits_estimated: int
    credits_charged: int | None
    parts: dict[str, str] = field(default_factory=dict)
    # A re-roll (--replace): ``seed`` was drawn by vidspec in place of the spec's, which was this seed then
    # ({"spec_seed": int | None}). Later builds keep using ``seed`` while the spec's seed stays the same.
    reroll: dict[str, int | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.reroll is None:  # absent, not null: lockfiles without re-rolls read as before
            del data["reroll"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockEntry:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Lock:
    assets: dict[str, LockEntry] = field(default_factory=dict)

    def dumps(self) -> str:
        body = {
            "version": LOCK_VERSION,
            "assets": {name: self.assets[name].to_dict() for name in sorted(self.assets)},
        }
        return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def loads(cls, text: str) -> Lock:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
            raise ValueError("not a vidspec lockfile (version 1)")
        return cls({name: LockEntry.from_dict(e) for name, e in data.get("assets", {}).items()})
