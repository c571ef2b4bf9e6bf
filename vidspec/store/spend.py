"""What one spec's builds have spent, across runs: one small file per create attempt, in the cache directory.

``<cache>/spend/<id>/<attempt>.json``, where ``<id>`` hashes the spec's identity (its path relative to the
directory that holds the cache, or its absolute path when the cache is elsewhere). An attempt is written before
its create is sent and rewritten at each step (task id known, answer lost, refused, charged), each time
atomically, so a kill at any moment leaves it counted once: as possibly billed, in flight, or charged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from vidspec.core.budget import Attempt
from vidspec.core.lock import Lock
from vidspec.store.atomic import atomic_write_text

SPEND_DIR = "spend"
ABOUT = "spec.json"


def spec_identity(spec: Path, cache_root: Path) -> str:
    """The spec as the spend record knows it: moving a project together with its cache keeps its record."""
    path = spec.resolve()
    try:
        return path.relative_to(cache_root.resolve().parent).as_posix()
    except ValueError:
        return path.as_posix()


class SpendLog:
    def __init__(self, root: Path, identity: str) -> None:
        self.root = root
        self.identity = identity

    @classmethod
    def for_spec(cls, cache_root: Path, spec: Path) -> SpendLog:
        identity = spec_identity(spec, cache_root)
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
        return cls(cache_root / SPEND_DIR / digest, identity)

    def exists(self) -> bool:
        return self.root.is_dir()

    def put(self, attempt: Attempt) -> None:
        if not (self.root / ABOUT).exists():
            atomic_write_text(self.root / ABOUT, json.dumps({"spec": self.identity}) + "\n")
        atomic_write_text(
            self.root / f"{attempt.id}.json", json.dumps(asdict(attempt), sort_keys=True) + "\n"
        )

    def load(self) -> list[Attempt]:
        if not self.root.is_dir():
            return []
        found = []
        for p in sorted(self.root.glob("*.json")):
            if p.name == ABOUT:
                continue
            try:
                data = json.loads(p.read_text("utf-8"))
                found.append(Attempt(**{k: v for k, v in data.items() if k in Attempt.__dataclass_fields__}))
            except (OSError, ValueError, TypeError):
                continue  # a torn temp file never has this name; anything else unreadable is not ours
        return found


def from_lockfile(lock: Lock | None) -> list[Attempt]:
    """What the lockfile says this spec's builds charged: the record's start when it has none yet (a cache
    made by an older vidspec, or a fresh clone of a project whose assets were paid for)."""
    if lock is None:
        return []
    out = []
    for name, e in sorted(lock.assets.items()):
        if e.credits_charged is None and e.task_id is None:
            continue
        out.append(
            Attempt(
                id=f"lock-{e.task_id or name}",
                key=e.key,
                name=name,
                run="lockfile",
                credits_estimated=e.credits_estimated,
                state="charged",
                task_id=e.task_id,
                credits_charged=e.credits_charged,
            )
        )
    return out


def seed(log: SpendLog, attempts: Iterable[Attempt]) -> None:
    for a in attempts:
        log.put(a)
