"""Looking after a cache tier (local directory or team store): list its entries, re-hash every object, and
collect old entries that no lockfile names and no running build holds a lease on."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidspec.core.hashing import file_sha256, key_hex
from vidspec.core.lock import Lock
from vidspec.store.cache import LocalStore, Record
from vidspec.store.lease import Leases
from vidspec.store.remote import Blobs
from vidspec.store.tiered import TeamStore

Tier = Literal["local", "team"]
Health = Literal["ok", "damaged", "missing"]


@dataclass(frozen=True)
class Entry:
    tier: Tier
    namespace: str
    key: str
    record: Record
    size: int

    @property
    def created_at(self) -> float:
        return self.record.created_at


def _record(data: bytes) -> Record | None:
    try:
        rec = Record.from_dict(json.loads(data))
    except (ValueError, TypeError):
        return None
    return rec if isinstance(rec.key, str) and rec.key.startswith("sha256:") else None


class LocalTier:
    """A cache directory: <root>/<namespace>/records/<ab>/<hex>.json beside its objects."""

    tier: Tier = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def namespaces(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "records").is_dir())

    def entries(self) -> Iterator[Entry]:
        for ns in self.namespaces():
            for path in sorted((self.root / ns / "records").glob("*/*.json")):
                try:
                    rec = _record(path.read_bytes())
                except OSError:
                    continue
                if rec is not None:
                    yield Entry("local", ns, rec.key, rec, rec.size)

    def health(self, entry: Entry) -> Health:
        path = self.root / entry.namespace / "objects" / key_hex(entry.key)[:2] / entry.record.file
        try:
            digest = file_sha256(path)  # every byte again: a verify trusts no remembered check
        except OSError:
            return "missing"
        return "ok" if digest == entry.record.output_sha256 else "damaged"

    def drop_damaged(self, entry: Entry) -> None:
        """Moved aside (quarantine), never deleted: it may be all that is left; the record keeps its task."""
        LocalStore(self.root / entry.namespace).quarantine(entry.key)

    def delete(self, entry: Entry) -> None:
        store = LocalStore(self.root / entry.namespace)
        h = key_hex(entry.key)
        for path in (
            store.root / "records" / h[:2] / f"{h}.json",
            store.root / "objects" / h[:2] / entry.record.file,
            store.root / "objects" / h[:2] / f".{entry.record.file}.verified",
        ):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def leased(self) -> set[str]:
        return set()  # a local build holds the cache's build lock instead (see gc in the app)


class TeamTierView:
    """A team store, every namespace in it."""

    tier: Tier = "team"

    def __init__(self, blobs: Blobs) -> None:
        self.blobs = blobs
        self.url = blobs.url

    def entries(self) -> Iterator[Entry]:
        for blob in self.blobs.list(""):
            parts = blob.name.split("/")
            if len(parts) != 4 or parts[1] != "records" or not parts[3].endswith(".json"):
                continue
            found = self.blobs.read(blob.name)
            rec = _record(found[0]) if found else None
            if rec is not None:
                yield Entry("team", parts[0], rec.key, rec, rec.size)

    def _store(self, entry: Entry, tmp: Path) -> TeamStore:
        return TeamStore(self.blobs, entry.namespace, lambda: tmp)

    def health(self, entry: Entry) -> Health:
        with tempfile.TemporaryDirectory(prefix="vidspec-verify-") as tmp:
            found = self._store(entry, Path(tmp)).fetch(entry.key)
        if found == "absent":
            return "missing"
        return "damaged" if found == "damaged" else "ok"

    def drop_damaged(self, entry: Entry) -> None:
        self.delete(entry)

    def delete(self, entry: Entry) -> None:
        """The record first: an entry without its record is not an entry."""
        self._store(entry, Path(tempfile.gettempdir())).drop(entry.key, entry.record)

    def leased(self) -> set[str]:
        namespaces = {b.name.split("/")[0] for b in self.blobs.list("") if "/leases/" in b.name}
        return {info.key for ns in sorted(namespaces) for info in Leases(self.blobs, ns).live()}


AnyTier = LocalTier | TeamTierView


def parse_age(text: str) -> float:
    """ "30d", "12h", "90m", "45s", "2w" -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not m:
        raise ValueError(f"{text!r}: use a number and a unit, as in 30d, 12h, 90m, 2w")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


def lockfile_keys(root: Path) -> set[str]:
    """Every key that a lockfile under ``root`` (the repository) names; never inside caches or .git."""
    keys: set[str] = set()
    skip = {".git", ".vidspec", "node_modules", ".venv", "venv", "__pycache__"}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            if not name.endswith(".lock.json"):
                continue
            try:
                lock = Lock.loads((Path(dirpath) / name).read_text("utf-8"))
            except (OSError, ValueError, TypeError, KeyError):
                continue
            keys |= {e.key for e in lock.assets.values()}
    return keys


def repository_root(start: Path) -> Path:
    """The git work tree holding ``start``, else ``start`` itself."""
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return here


@dataclass(frozen=True)
class GcResult:
    removed: list[Entry]
    kept_locked: int  # named by a lockfile
    kept_leased: int  # a running build holds its lease
    kept_young: int


def collect(tier: AnyTier, older_than: float, keep: set[str], *, dry_run: bool = False) -> GcResult:
    cutoff = time.time() - older_than
    leased = tier.leased()
    removed: list[Entry] = []
    locked = held = young = 0
    entries: Iterable[Entry] = list(tier.entries())
    for entry in entries:
        if entry.key in keep:
            locked += 1
        elif entry.key in leased:
            held += 1
        elif entry.created_at > cutoff:
            young += 1
        else:
            if not dry_run:
                tier.delete(entry)
            removed.append(entry)
    return GcResult(removed, locked, held, young)
