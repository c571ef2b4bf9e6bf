"""Reading and writing the lockfile `<spec stem>.lock.json` beside the spec."""

from __future__ import annotations

from pathlib import Path

from vidspec.core.lock import Lock
from vidspec.store.atomic import atomic_write_text


def lock_path(spec: Path) -> Path:
    return spec.resolve().parent / f"{spec.stem}.lock.json"


def read_lock(spec: Path) -> Lock | None:
    try:
        return Lock.loads(lock_path(spec).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        return None


def write_lock(spec: Path, lock: Lock) -> Path:
    path = lock_path(spec)
    atomic_write_text(path, lock.dumps())
    return path
