"""Leases on the team cache: before a paid create, a builder claims the asset's key, so that two builders of
the same missing asset pay once.

A lease is a small JSON object (owner, host, pid, expiry) created only if absent (If-None-Match: *). It is
renewed while its task runs (If-Match on the version we wrote), and one whose builder died is taken over
once it has expired (If-Match on the expired version: of two builders taking over at once, one wins).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from vidspec.core.hashing import key_hex
from vidspec.store.remote import Blobs

LEASE_TTL_ENV = "VIDSPEC_LEASE_TTL"
DEFAULT_TTL = 300.0  # seconds; renewed every third of it while the task runs


def lease_ttl() -> float:
    raw = os.environ.get(LEASE_TTL_ENV)
    try:
        ttl = float(raw) if raw else DEFAULT_TTL
    except ValueError:
        ttl = DEFAULT_TTL
    return ttl if ttl > 0 else DEFAULT_TTL


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    key: str
    owner: str
    expires_at: float
    taken_at: float
    asset: str = ""

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def describe(self) -> str:
        left = max(0.0, self.expires_at - time.time())
        return f"{self.owner} (lease expires in {left:.0f} s unless renewed)"


def _parse(data: bytes) -> LeaseInfo | None:
    try:
        raw: Any = json.loads(data)
        return LeaseInfo(
            str(raw["key"]), str(raw["owner"]), float(raw["expires_at"]), float(raw["taken_at"]),
            str(raw.get("asset", "")),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: treated as expired, so it can be taken over


class Leases:
    """The leases of one namespace of the team cache, held by one owner (this build)."""

    def __init__(self, blobs: Blobs, namespace: str, *, ttl: float | None = None, owner: str | None = None):
        self.blobs = blobs
        self.namespace = namespace
        self.ttl = ttl if ttl is not None else lease_ttl()
        self.owner = owner or new_owner()
        self._tags: dict[str, str] = {}  # key -> the version of our lease

    def name(self, key: str) -> str:
        return f"{self.namespace}/leases/{key_hex(key)}.json"

    def _body(self, key: str, asset: str) -> bytes:
        now = time.time()
        info = LeaseInfo(key, self.owner, round(now + self.ttl, 3), round(now, 3), asset)
        return json.dumps(asdict(info), sort_keys=True).encode()

    def holder(self, key: str) -> LeaseInfo | None:
        """The live lease on ``key`` held by someone else, or None."""
        found = self.blobs.read(self.name(key))
        if found is None:
            return None
        info = _parse(found[0])
        if info is None or info.expired or info.owner == self.owner:
            return None
        return info

    def claim(self, key: str, asset: str = "") -> LeaseInfo | None:
        """Take the lease: None when this build holds it now, else the live lease of the builder that does."""
        name = self.name(key)
        for _ in range(5):
            tag = self.blobs.create(name, self._body(key, asset))
            if tag is not None:
                self._tags[key] = tag
                return None
            found = self.blobs.read(name)
            if found is None:  # released between our create and our read: try again
                continue
            data, old = found
            info = _parse(data)
            if info is not None and not info.expired and info.owner != self.owner:
                return info
            # Expired (its builder died), unreadable, or ours from before: take it over, if nobody else did.
            tag = self.blobs.replace(name, self._body(key, asset), old)
            if tag is not None:
                self._tags[key] = tag
                return None
        found = self.blobs.read(name)
        info = _parse(found[0]) if found else None
        return info if info is not None else LeaseInfo(key, "?", time.time() + self.ttl, time.time())

    def renew(self, key: str, asset: str = "") -> bool:
        """Push the expiry on; False when the lease is no longer ours (it expired and was taken over)."""
        tag = self._tags.get(key)
        if tag is None:
            return False
        new = self.blobs.replace(self.name(key), self._body(key, asset), tag)
        if new is None:
            self._tags.pop(key, None)
            return False
        self._tags[key] = new
        return True

    def release(self, key: str) -> None:
        """Drop our lease (only if it is still ours: never someone's who took it over)."""
        tag = self._tags.pop(key, None)
        if tag is None:
            return
        found = self.blobs.read(self.name(key))
        if found is not None and found[1] == tag:
            self.blobs.delete(self.name(key))

    def live(self) -> list[LeaseInfo]:
        """Every unexpired lease of the namespace (gc keeps what they name)."""
        out = []
        for blob in self.blobs.list(f"{self.namespace}/leases/"):
            found = self.blobs.read(blob.name)
            info = _parse(found[0]) if found else None
            if info is not None and not info.expired:
                out.append(info)
        return out
