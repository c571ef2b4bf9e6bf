"""Two cache tiers: the local one, then the team one (object storage), read through and written through.

A team object enters the local cache only after its bytes match the sha256 in its team record; a mismatch is
a warning, and the entry is never used. When the team store is unreachable (refused, timeouts, 5xx) the
first failure gives one warning and the tier is off for the rest of the run: the build goes on locally.
A refusal (403, no such bucket, no credentials) is an error: it means a misconfiguration.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Literal, TypeVar

from vidspec.core.hashing import file_sha256, key_hex
from vidspec.errors import TeamCacheDenied, TeamCacheDown
from vidspec.store.cache import Check, LocalStore, Record
from vidspec.store.lease import LeaseInfo, Leases
from vidspec.store.remote import CACHE_URL_ENV, BlobInfo, Blobs, parse_cache_url

T = TypeVar("T")
Fetched = Literal["ok", "absent", "damaged", "down"]


class TeamStore:
    """The team tier of one namespace: <ns>/objects/<ab>/<hex><ext> and <ns>/records/<ab>/<hex>.json, the
    same layout as a local store. Implements the Storage protocol (has/get/put) of store/cache.py."""

    def __init__(self, blobs: Blobs, namespace: str, tmp: Callable[[], Path]) -> None:
        self.blobs = blobs
        self.namespace = namespace
        self._tmp = tmp

    def record_name(self, key: str) -> str:
        h = key_hex(key)
        return f"{self.namespace}/records/{h[:2]}/{h}.json"

    def object_name(self, key: str, file: str) -> str:
        return f"{self.namespace}/objects/{key_hex(key)[:2]}/{Path(file).name}"

    def record(self, key: str) -> Record | None:
        found = self.blobs.read(self.record_name(key))
        if found is None:
            return None
        try:
            rec = Record.from_dict(json.loads(found[0]))
        except (ValueError, TypeError):
            return None
        return rec if rec.key == key else None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str) -> tuple[Record, Path] | None:
        """The record and a verified local temp copy of the object; None when absent or damaged."""
        found = self.fetch(key)
        return found if isinstance(found, tuple) else None

    def fetch(self, key: str) -> tuple[Record, Path] | Literal["absent", "damaged"]:
        rec = self.record(key)
        if rec is None:
            return "absent"
        dest = (
            self._tmp()
            / f"team-{key_hex(key)[:16]}-{os.getpid()}-{threading.get_ident()}{Path(rec.file).suffix}"
        )
        ok = False
        try:
            size = self.blobs.download(self.object_name(key, rec.file), dest, limit=rec.size)
            if size is None:
                return "absent"
            if size != rec.size or file_sha256(dest) != rec.output_sha256:
                return "damaged"
            ok = True
        finally:
            if not ok:
                with contextlib.suppress(OSError):
                    dest.unlink()
        return rec, dest

    def put(self, key: str, src: Path, record: Record) -> Path:
        """The object first, then its record: an entry counts once its record is there."""
        self.blobs.upload(self.object_name(key, record.file), src)
        text = json.dumps(asdict(record), indent=2, sort_keys=True) + "\n"
        self.blobs.write(self.record_name(key), text.encode("utf-8"))
        return src

    def drop(self, key: str, record: Record | None) -> None:
        self.blobs.delete(self.record_name(key))
        if record is not None:
            self.blobs.delete(self.object_name(key, record.file))

    def entries(self) -> Iterator[tuple[BlobInfo, Record | None]]:
        for blob in self.blobs.list(f"{self.namespace}/records/"):
            found = self.blobs.read(blob.name)
            try:
                rec = Record.from_dict(json.loads(found[0])) if found else None
            except (ValueError, TypeError):
                rec = None
            yield blob, rec


class TeamTier:
    """The team cache of one run, shared by its threads: read-through into a LocalStore, write-through,
    leases, and the one warning when the store is down."""

    def __init__(self, blobs: Blobs, namespace: str, local: LocalStore) -> None:
        self.blobs = blobs
        self.url = blobs.url
        self.local = local
        self.store = TeamStore(blobs, namespace, local.tmp_dir)
        self.leases = Leases(blobs, namespace)
        self.down = False
        self.warnings: list[str] = []
        self.on_warning: Callable[[str], None] | None = None
        self._lock = threading.Lock()
        self._checked = False
        self.downloaded = 0  # objects fetched into the local cache, verified
        self.uploaded = 0

    @classmethod
    def from_url(cls, url: str | None, namespace: str, local: LocalStore) -> TeamTier | None:
        """``url``, else VIDSPEC_CACHE_URL; None when neither is set."""
        chosen = url or os.environ.get(CACHE_URL_ENV)
        if not chosen:
            return None
        return cls(parse_cache_url(chosen), namespace, local)

    def warn(self, message: str) -> None:
        with self._lock:
            if message in self.warnings:
                return
            self.warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)

    def _guard(self, call: Callable[[], T], fallback: T, *, paid: bool = False) -> T:
        """Run one store call; when the store is down: one warning, then the local tier alone. ``paid``: a
        call after a create (upload, renew, release): a refusal then is a warning too, never a failed build
        (what was paid for is in the local cache)."""
        if self.down:
            return fallback
        errors: tuple[type[Exception], ...] = (TeamCacheDown, TeamCacheDenied) if paid else (TeamCacheDown,)
        try:
            return call()
        except errors as exc:
            with self._lock:
                first = not self.down
                self.down = True
            if first:
                self.warn(f"{exc}; going on with the local cache alone (assets it lacks may be paid again)")
            return fallback

    def check(self) -> None:
        """Before anything is spent: a 403 raises (TeamCacheDenied); a store that is down only warns."""
        if not self._checked:
            self._checked = True
            self._guard(self.blobs.check, None)

    def fetch(self, key: str) -> Fetched:
        """Read-through: the team's object for ``key``, verified, into the local cache."""
        self.check()
        down: tuple[Record, Path] | str = "down"
        found = self._guard(lambda: self.store.fetch(key), down)
        if found == "damaged":
            rec = self._guard(lambda: self.store.record(key), None)
            what = f"'{rec.name}' ({key_hex(key)[:12]})" if rec else key_hex(key)[:12]
            self.warn(
                f"the team cache's object for {what} does not match the sha256 in its record; "
                "ignored (never used), the asset counts as to be generated"
            )
            return "damaged"
        if found == "absent":
            return "absent"
        if not isinstance(found, tuple):
            return "down"
        rec, tmp = found
        self.local.put(key, tmp, rec)
        with self._lock:
            self.downloaded += 1
        return "ok"

    def publish(self, key: str) -> bool:
        """Write-through: the local (verified) object and its record to the team cache."""
        hit = self.local.get(key)
        if hit is None:
            return False
        rec, path = hit
        self.check()
        done = self._guard(lambda: (self.store.put(key, path, rec), True)[1], False, paid=True)
        if done:
            with self._lock:
                self.uploaded += 1
        return done

    def share(self, key: str) -> bool:
        """Upload a verified local entry the team cache lacks (made before the team cache was set up, or
        while it was down); True when uploaded."""
        self.check()
        if self._guard(lambda: self.store.record(key) is not None, True, paid=True):
            return False
        return self.publish(key)

    def holder(self, key: str) -> LeaseInfo | None:
        self.check()
        return self._guard(lambda: self.leases.holder(key), None)

    def claim(self, key: str, asset: str) -> LeaseInfo | None:
        """None: this build may create (it holds the lease, or the store is down)."""
        self.check()
        return self._guard(lambda: self.leases.claim(key, asset), None)

    def renew(self, key: str, asset: str) -> bool:
        return self._guard(lambda: self.leases.renew(key, asset), False, paid=True)

    def release(self, key: str) -> None:
        self._guard(lambda: self.leases.release(key), None, paid=True)


def team_lookup(
    team: TeamTier, local: LocalStore, checks: dict[str, Check], workers: int = 8
) -> tuple[dict[str, Literal["team"]], dict[str, str]]:
    """For every key the local tier lacks (or holds damaged): fetch it from the team tier into the local one
    (verified), else note who holds a live lease on it. Returns (key -> "team" for the keys fetched now,
    key -> the lease holder in words). ``checks`` is updated with the local state after fetching."""
    from concurrent.futures import ThreadPoolExecutor

    todo = sorted(k for k, c in checks.items() if not c.ok)
    if not todo:
        return {}, {}
    team.check()  # a 403 stops here, before anything is spent
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        fetched = dict(zip(todo, pool.map(team.fetch, todo)))
    tiers: dict[str, Literal["team"]] = {}
    elsewhere: dict[str, str] = {}
    for key, state in fetched.items():
        if state == "ok":
            checks[key] = local.check(key)
            if checks[key].ok:
                tiers[key] = "team"
                continue
        holder = team.holder(key)
        if holder is not None:
            elsewhere[key] = holder.describe()
    return tiers, elsewhere
