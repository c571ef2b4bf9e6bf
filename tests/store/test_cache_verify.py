"""A cached object counts only when its bytes match the sha256 in its record; verification is memoised by the
file's identity (size, times, inode) but a changed file is always hashed again; a damaged one is moved aside."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from vidspec.core import hashing
from vidspec.store import cache as cache_mod
from vidspec.store.cache import LocalStore, Record, verify_file

KEY = "sha256:" + "4" * 64
DATA = bytes(range(256)) * 64  # 16 KiB


def put(store: LocalStore, tmp: Path, data: bytes = DATA, task_id: str | None = "task-1") -> Path:
    src = tmp / "download.mp4"
    src.write_bytes(data)
    rec = Record(
        KEY, "a.video", "video", "gen4.5", "text_to_video", "4" * 64 + ".mp4",
        hashlib.sha256(data).hexdigest(), len(data), 5.0, task_id, 60, 60, 1.0,
    )  # fmt: skip
    return store.put(KEY, src, rec)


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled, so a verification may be remembered (a file changed in the
    last two seconds never is; utime cannot age one, since it sets the ctime to now)."""
    monkeypatch.setattr(cache_mod, "RACY_NS", 0)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    cache_mod.forget_verifications()
    return LocalStore(tmp_path / "runway")


def test_a_same_size_corruption_is_not_a_hit(store: LocalStore, tmp_path: Path) -> None:
    path = put(store, tmp_path)
    assert store.check(KEY).state == "ok" and store.has(KEY)
    flipped = bytearray(path.read_bytes())
    flipped[5000] ^= 0xFF
    path.write_bytes(bytes(flipped))
    check = store.check(KEY)
    assert check.state == "damaged" and check.record is not None and check.record.task_id == "task-1"
    assert store.get(KEY) is None and not store.has(KEY)


@pytest.mark.usefixtures("settled")
def test_a_corruption_that_keeps_size_and_mtime_is_still_caught(store: LocalStore, tmp_path: Path) -> None:
    path = put(store, tmp_path)
    assert store.check(KEY).state == "ok"  # verified once, and remembered (the file is old)
    before = path.stat()
    flipped = bytearray(path.read_bytes())
    flipped[100] ^= 0x01
    path.write_bytes(bytes(flipped))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    cache_mod.forget_verifications()  # a new process: only the on-disk stamp is left
    assert store.check(KEY).state == "damaged"


def test_truncated_and_deleted_objects(store: LocalStore, tmp_path: Path) -> None:
    path = put(store, tmp_path)
    path.write_bytes(DATA[:1000])
    assert store.check(KEY).state == "damaged"
    path.unlink()
    check = store.check(KEY)
    assert check.state == "missing" and check.record is not None and check.path == path
    assert store.check("sha256:" + "5" * 64).state == "absent"


@pytest.mark.usefixtures("settled")
def test_verification_is_remembered_until_the_file_changes(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = put(store, tmp_path)
    calls: list[Path] = []
    real = hashing.file_sha256

    def counting(p: Path) -> str:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(cache_mod, "file_sha256", counting)
    assert store.check(KEY).state == "ok" and len(calls) == 1
    assert store.check(KEY).state == "ok" and len(calls) == 1  # remembered in this process
    cache_mod.forget_verifications()
    assert store.check(KEY).state == "ok" and len(calls) == 1  # and on disk, for the next process
    os.utime(path)  # touched: its identity changed, so it is hashed again
    assert store.check(KEY).state == "ok" and len(calls) == 2


def test_a_just_written_file_is_hashed_every_time(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write within the same timestamp tick would keep size and mtime: a fresh file is never remembered.
    put(store, tmp_path)
    calls: list[Path] = []
    real = hashing.file_sha256
    monkeypatch.setattr(cache_mod, "file_sha256", lambda p: calls.append(p) or real(p))
    store.check(KEY)
    store.check(KEY)
    assert len(calls) == 2


@pytest.mark.usefixtures("settled")
def test_a_stamp_that_cannot_be_written_is_not_an_error(store: LocalStore, tmp_path: Path) -> None:
    path = put(store, tmp_path)
    (path.parent / f".{path.name}.verified").mkdir()  # in the way of the stamp (chmod would not stop root)
    assert store.check(KEY).state == "ok"
    cache_mod.forget_verifications()
    assert store.check(KEY).state == "ok"


def test_quarantine_moves_the_damaged_file_aside_and_keeps_the_record(
    store: LocalStore, tmp_path: Path
) -> None:
    path = put(store, tmp_path)
    path.write_bytes(b"x" * len(DATA))
    moved = store.quarantine(KEY)
    assert moved is not None and moved.read_bytes() == b"x" * len(DATA)
    assert moved.is_relative_to(store.root / "quarantine") and not path.exists()
    assert store.check(KEY).state == "missing" and store.record(KEY) is not None
    assert store.quarantine(KEY) is None  # nothing left to move


def test_a_gone_task_is_remembered_until_the_object_is_replaced(store: LocalStore, tmp_path: Path) -> None:
    path = put(store, tmp_path)
    path.unlink()
    assert store.check(KEY).task_gone is False
    store.mark_task_gone(KEY, "task-1")
    assert store.check(KEY).task_gone is True
    put(store, tmp_path)
    assert store.check(KEY).state == "ok" and store.check(KEY).task_gone is False


def test_verify_file(tmp_path: Path) -> None:
    cache_mod.forget_verifications()
    f = tmp_path / "clip.mp4"
    f.write_bytes(DATA)
    digest = hashlib.sha256(DATA).hexdigest()
    assert verify_file(f, digest) == "ok"
    assert verify_file(f, "0" * 64) == "damaged"
    assert verify_file(tmp_path / "nope.mp4", digest) == "missing"
