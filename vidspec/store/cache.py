"""The content-addressed cache on disk: one object store per backend namespace, plus the task journal.

Every write is atomic (a temp file in the same directory, fsync, then os.replace), so a kill at any
moment leaves either the old file or the new one. An object counts as cached only once its record
is written, and the record is written after the object.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from vidspec.core.hashing import key_hex
from vidspec.errors import ConfigError
from vidspec.store.atomic import atomic_move, atomic_write_text
from vidspec.store.journal import Journal

CACHE_DIR_ENV = "VIDSPEC_CACHE_DIR"


@dataclass(frozen=True)
class Record:
    key: str
    name: str  # the asset that first made it (for people; not part of the key)
    kind: str
    model: str
    endpoint: str
    file: str  # object file name inside the store
    output_sha256: str
    size: int
    duration: float | None
    task_id: str | None
    credits_estimated: int
    credits_charged: int | None
    created_at: float
    backend: str = "runway"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


class Storage(Protocol):
    """The small interface a team cache (shared object storage) implements too."""

    def has(self, key: str) -> bool: ...

    def get(self, key: str) -> tuple[Record, Path] | None: ...

    def put(self, key: str, src: Path, record: Record) -> Path: ...


class LocalStore:
    """objects/<ab>/<hex><ext> plus records/<ab>/<hex>.json, under one namespace directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _record_path(self, key: str) -> Path:
        h = key_hex(key)
        return self.root / "records" / h[:2] / f"{h}.json"

    def object_path(self, key: str, ext: str) -> Path:
        h = key_hex(key)
        return self.root / "objects" / h[:2] / f"{h}{ext}"

    def record(self, key: str) -> Record | None:
        try:
            return Record.from_dict(json.loads(self._record_path(key).read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str) -> tuple[Record, Path] | None:
        rec = self.record(key)
        if rec is None:
            return None
        path = self.root / "objects" / key_hex(key)[:2] / rec.file
        if not path.is_file() or path.stat().st_size != rec.size:
            return None
        return rec, path

    def put(self, key: str, src: Path, record: Record) -> Path:
        dest = self.object_path(key, Path(record.file).suffix)
        atomic_move(src, dest)
        atomic_write_text(self._record_path(key), json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
        return dest

    def tmp_dir(self) -> Path:
        d = self.root / "tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d


class Cache:
    """A cache directory: one LocalStore per backend namespace, and the Runway task journal."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_spec(cls, spec: Path, override: Path | str | None = None) -> Cache:
        chosen = override or os.environ.get(CACHE_DIR_ENV)
        return cls(Path(chosen) if chosen else spec.resolve().parent / ".vidspec")

    def store(self, namespace: str) -> LocalStore:
        return LocalStore(self.root / namespace)

    @property
    def journal(self) -> Journal:
        return Journal(self.root / "journal")

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One build per cache at a time: two would each submit the same missing assets and pay twice.

        An advisory lock (flock) that the OS drops when the process dies, so a killed build never blocks
        the next one."""
        try:
            import fcntl
        except ImportError:  # no flock (Windows): run unguarded
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "build.lock", "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "?"
                raise ConfigError(
                    f"another vidspec build (pid {holder}) is using the cache {self.root}; wait for it to "
                    "finish, or give this one another --cache-dir"
                ) from None
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def now() -> float:
    return round(time.time(), 3)
