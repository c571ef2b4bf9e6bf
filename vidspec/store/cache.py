"""The content-addressed cache on disk: one object store per backend namespace, plus the task journal.

Every write is atomic (a temp file in the same directory, fsync, then os.replace), so a kill at any
moment leaves either the old file or the new one. An object counts as cached only once its record
is written, and the record is written after the object, and only while its bytes match the record's
sha256 (checked before every use; see verify_file for how the check is remembered).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from vidspec.core.hashing import file_sha256, key_hex
from vidspec.errors import ConfigError, WriteError
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


FileState = Literal["ok", "missing", "damaged"]
# ok: the record and a verified object; absent: no record (never made, or the record is gone); missing: a
# record whose object file is gone; damaged: the object's bytes do not match the record.
ObjectState = Literal["ok", "absent", "missing", "damaged"]

# A file whose mtime or ctime is this recent is hashed every time: a write within the same timestamp tick
# (coarse on some filesystems) would otherwise keep its size and times and pass as verified.
RACY_NS = 2_000_000_000
_verified: dict[str, tuple[tuple[int, ...], str]] = {}  # path -> (identity, sha256) verified in this process


def forget_verifications() -> None:
    """Drop what this process remembers (tests use it to act as a new process)."""
    _verified.clear()


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _stamp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.verified")


def _stamp_matches(path: Path, ident: tuple[int, ...], sha256: str) -> bool:
    if _verified.get(str(path)) == (ident, sha256):
        return True
    try:
        data = json.loads(_stamp_path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("identity") == list(ident) and data.get("sha256") == sha256


def verify_file(path: Path, sha256: str, size: int | None = None, *, remember: bool = False) -> FileState:
    """Whether ``path`` holds the bytes whose hex sha256 is ``sha256``.

    A verification is remembered by the file's identity (size, mtime_ns, ctime_ns, inode, device): in this
    process, and with ``remember`` in a stamp beside the file for later processes. Any change to the file
    changes its identity (ctime cannot be set back by hand), so a changed file is always hashed again; a
    file changed in the last RACY_NS is never remembered."""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    if not path.is_file():
        return "missing"
    if size is not None and st.st_size != size:
        return "damaged"
    ident = _identity(st)
    if _stamp_matches(path, ident, sha256):
        return "ok"
    try:
        actual = file_sha256(path)
    except OSError:
        return "missing"
    if actual != sha256:
        return "damaged"
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS:
        _verified[str(path)] = (ident, sha256)
        if remember:
            stamp = {"identity": list(ident), "sha256": sha256}
            with contextlib.suppress(OSError):  # a read-only cache only loses the memo
                tmp = _stamp_path(path).with_name(f"{_stamp_path(path).name}.{uuid.uuid4().hex[:8]}")
                tmp.write_text(json.dumps(stamp), "utf-8")
                os.replace(tmp, _stamp_path(path))
    return "ok"


@dataclass(frozen=True)
class Check:
    """What the cache holds for one key, verified."""

    state: ObjectState
    record: Record | None = None
    path: Path | None = None  # where the object is (or was)
    task_gone: bool = False  # a fetch found the recorded task gone from the API: only a new create helps

    @property
    def ok(self) -> bool:
        return self.state == "ok"


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

    def _gone_path(self, key: str) -> Path:
        h = key_hex(key)
        return self.root / "gone" / h[:2] / f"{h}.json"

    def check(self, key: str) -> Check:
        """The object for ``key`` against its record: size, then sha256 (remembered while the file is unchanged)."""
        rec = self.record(key)
        if rec is None:
            return Check("absent")
        path = self.root / "objects" / key_hex(key)[:2] / rec.file
        state = verify_file(path, rec.output_sha256, rec.size, remember=True)
        return Check(state, rec, path, state != "ok" and self._task_gone(key, rec))

    def has(self, key: str) -> bool:
        return self.check(key).ok

    def get(self, key: str) -> tuple[Record, Path] | None:
        """The record and object path, only when the object's bytes match the record."""
        found = self.check(key)
        if not found.ok or found.record is None or found.path is None:
            return None
        return found.record, found.path

    def put(self, key: str, src: Path, record: Record) -> Path:
        dest = self.object_path(key, Path(record.file).suffix)
        atomic_move(src, dest)
        atomic_write_text(self._record_path(key), json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
        with contextlib.suppress(OSError):
            self._gone_path(key).unlink()
        return dest

    def quarantine(self, key: str) -> Path | None:
        """Move a damaged object aside (never delete it: it may be all that is left); the record stays, for
        its task id. Returns where it went, or None when there was no file."""
        rec = self.record(key)
        if rec is None:
            return None
        path = self.root / "objects" / key_hex(key)[:2] / rec.file
        if not path.is_file():
            return None
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        dest = self.root / "quarantine" / f"{Path(rec.file).stem}.{stamp}.{uuid.uuid4().hex[:6]}{path.suffix}"
        atomic_move(path, dest)
        with contextlib.suppress(OSError):
            _stamp_path(path).unlink()
        return dest

    def mark_task_gone(self, key: str, task_id: str) -> None:
        """Remember that the recorded task can no longer give its output, so a plan prices a new create."""
        atomic_write_text(self._gone_path(key), json.dumps({"task_id": task_id, "at": now()}) + "\n")

    def _task_gone(self, key: str, rec: Record) -> bool:
        try:
            data = json.loads(self._gone_path(key).read_text("utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and rec.task_id is not None and data.get("task_id") == rec.task_id

    def tmp_dir(self) -> Path:
        d = self.root / "tmp"
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteError(d, exc) from None
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
        lock_file = self.root / "build.lock"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            f = open(lock_file, "a+")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise WriteError(lock_file, exc) from None
        with f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "?"
                raise ConfigError(
                    f"another vidspec build (pid {holder}) is using the cache {self.root}; wait for it to "
                    "finish, or give this one another --cache-dir"
                ) from None
            try:
                f.seek(0)
                f.truncate()
                f.write(str(os.getpid()))
                f.flush()
            except OSError as exc:
                raise WriteError(lock_file, exc) from None
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def now() -> float:
    return round(time.time(), 3)
