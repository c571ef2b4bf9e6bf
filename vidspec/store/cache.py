"""The content-addressed cache on disk, its task journal, and the lockfile's reading and writing.

Every write is atomic (a temp file in the same directory, fsync, then os.replace), so a kill at any
moment leaves either the old file or the new one. An object counts as cached only once its record
is written, and the record is written after the object.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from vidspec.core.lock import Lock
from vidspec.errors import ConfigError

CACHE_DIR_ENV = "VIDSPEC_CACHE_DIR"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # mkstemp makes 0600 files; users expect their usual permissions


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dest)
    except OSError:  # another filesystem: copy beside the target first
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        os.unlink(src)
    _fsync_dir(dest.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


def _hex(key: str) -> str:
    return key.split(":", 1)[-1]


class LocalStore:
    """objects/<ab>/<hex><ext> plus records/<ab>/<hex>.json, under one namespace directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _record_path(self, key: str) -> Path:
        h = _hex(key)
        return self.root / "records" / h[:2] / f"{h}.json"

    def object_path(self, key: str, ext: str) -> Path:
        h = _hex(key)
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
        path = self.root / "objects" / _hex(key)[:2] / rec.file
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


@dataclass(frozen=True)
class JournalEntry:
    key: str
    name: str
    endpoint: str
    model: str
    task_id: str | None
    submitted_at: float
    credits_estimated: int
    state: str = "submitted"  # submitted | ambiguous | failed
    note: str = ""


class Journal:
    """Task ids written right after a create returns, before polling, so a killed build re-attaches."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / f"{_hex(key)}.json"

    def write(self, entry: JournalEntry) -> None:
        atomic_write_text(self._path(entry.key), json.dumps(asdict(entry), sort_keys=True) + "\n")

    def get(self, key: str) -> JournalEntry | None:
        try:
            data = json.loads(self._path(key).read_text("utf-8"))
            return JournalEntry(**{k: v for k, v in data.items() if k in JournalEntry.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def entries(self) -> Iterator[JournalEntry]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.glob("*.json")):
            e = self.get("sha256:" + p.stem)
            if e is not None:
                yield e


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


def now() -> float:
    return round(time.time(), 3)
