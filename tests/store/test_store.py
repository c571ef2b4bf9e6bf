"""The cache, journal and lockfile survive a kill at any moment; the poll schedule and budget do their sums."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidspec.core.lock import Lock, LockEntry
from vidspec.store.atomic import atomic_write_text
from vidspec.store.cache import Cache, LocalStore, Record
from vidspec.store.journal import Journal
from vidspec.store.lockfile import read_lock, write_lock

WRITER = """
import sys
from pathlib import Path
from vidspec.store.atomic import atomic_write_text
target = Path(sys.argv[1])
i = 0
while True:
    i += 1
    atomic_write_text(target, '{"version": %d, "pad": "%s"}' % (i, "x" * 200000))
"""


def test_atomic_write_survives_sigkill(tmp_path: Path) -> None:
    target = tmp_path / "film.lock.json"
    atomic_write_text(target, '{"version": 0}')
    for delay in (0.05, 0.11, 0.17, 0.23, 0.31):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = json.loads(target.read_text())  # never torn: the old file or the new one
        assert isinstance(data["version"], int)


def record(key: str, file: str, data: bytes) -> Record:
    sha = hashlib.sha256(data).hexdigest()  # the cache checks the bytes against it
    return Record(
        key, "a.video", "video", "gen4.5", "text_to_video", file, sha, len(data), 5.0, "t1", 60, 60, 1.0
    )


def test_store_counts_an_object_only_with_its_record(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "runway")
    key = "sha256:" + "1" * 64
    src = tmp_path / "out.mp4"
    src.write_bytes(b"video bytes")
    assert not store.has(key)
    path = store.put(key, src, record(key, "1" * 64 + ".mp4", b"video bytes"))
    assert store.has(key) and path.read_bytes() == b"video bytes"
    assert not src.exists()
    path.write_bytes(b"truncated")  # a damaged object is not a cache hit
    assert not store.has(key)
    key2 = "sha256:" + "2" * 64
    store.object_path(key2, ".mp4").parent.mkdir(parents=True, exist_ok=True)
    store.object_path(key2, ".mp4").write_bytes(b"orphan")  # killed before the record: not cached
    assert not store.has(key2)


def test_journal_round_trip(tmp_path: Path) -> None:
    from vidspec.store.journal import JournalEntry

    journal = Journal(tmp_path / "journal")
    entry = JournalEntry("sha256:" + "3" * 64, "a.video", "text_to_video", "gen4.5", "task-1", 1.0, 60)
    journal.write(entry)
    assert journal.get(entry.key) == entry
    assert list(journal.entries()) == [entry]
    journal.remove(entry.key)
    assert journal.get(entry.key) is None and list(journal.entries()) == []


def test_lockfile_is_sorted_and_stable(tmp_path: Path) -> None:
    spec = tmp_path / "film.yaml"
    spec.write_text("version: 1\n")
    lock = Lock()
    for name in ("b.video", "a.video", "a.narration"):
        lock.assets[name] = LockEntry(
            "sha256:x", "video", "gen4.5", "t", "s", 5.0, None, 60, 60, {"z": "1", "a": "2"}
        )
    path = write_lock(spec, lock)
    text = path.read_text()
    assert path.name == "film.lock.json"
    assert list(json.loads(text)["assets"]) == ["a.narration", "a.video", "b.video"]
    again = read_lock(spec)
    assert again is not None and again.dumps() == text
    path.write_text("{not json")
    assert read_lock(spec) is None


def test_cache_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "film.yaml"
    assert Cache.for_spec(spec).root == tmp_path / ".vidspec"
    monkeypatch.setenv("VIDSPEC_CACHE_DIR", str(tmp_path / "shared"))
    assert Cache.for_spec(spec).root == tmp_path / "shared"
    assert Cache.for_spec(spec, tmp_path / "flag").root == tmp_path / "flag"


def test_written_files_get_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic_write_text(target, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
