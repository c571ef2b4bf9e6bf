"""The cache, journal and lockfile survive a kill at any moment; the poll schedule and budget do their sums."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidspec.backends.runway.producer import Budget
from vidspec.backends.runway.tasks import PollSchedule, retryable_failure
from vidspec.core.lock import Lock, LockEntry
from vidspec.store.cache import Cache, Journal, LocalStore, Record, atomic_write_text, read_lock, write_lock

WRITER = """
import sys
from pathlib import Path
from vidspec.store.cache import atomic_write_text
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


def record(key: str, file: str, size: int) -> Record:
    return Record(
        key, "a.video", "video", "gen4.5", "text_to_video", file, "ab" * 32, size, 5.0, "t1", 60, 60, 1.0
    )


def test_store_counts_an_object_only_with_its_record(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "runway")
    key = "sha256:" + "1" * 64
    src = tmp_path / "out.mp4"
    src.write_bytes(b"video bytes")
    assert not store.has(key)
    path = store.put(key, src, record(key, "1" * 64 + ".mp4", 11))
    assert store.has(key) and path.read_bytes() == b"video bytes"
    assert not src.exists()
    path.write_bytes(b"truncated")  # a damaged object is not a cache hit
    assert not store.has(key)
    key2 = "sha256:" + "2" * 64
    store.object_path(key2, ".mp4").parent.mkdir(parents=True, exist_ok=True)
    store.object_path(key2, ".mp4").write_bytes(b"orphan")  # killed before the record: not cached
    assert not store.has(key2)


def test_journal_round_trip(tmp_path: Path) -> None:
    from vidspec.store.cache import JournalEntry

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


def test_poll_schedule_backs_off_and_aims_at_the_end() -> None:
    s = PollSchedule(jitter=0.0)
    delays = [s.next_delay(0) for _ in range(10)]
    assert delays[0] == pytest.approx(2.0) and delays[1] == pytest.approx(3.0)
    assert max(delays) == pytest.approx(20.0) and delays == sorted(delays)
    p = PollSchedule(jitter=0.0, scale=0.1)
    p.observe(0.2, None, "PENDING")
    p.observe(0.5, 0.3)  # running since at most 0.2 s: 1.0 progress per second, 0.7 s left
    assert p.next_delay(0.5) == pytest.approx(0.6)  # capped at three backoff intervals (3 x 0.2 s)
    p.observe(0.6, 0.4)
    assert p.next_delay(0.6) == pytest.approx(0.6 * 1.03 + 0.01, abs=1e-6)
    p.observe(0.9, 0.8)  # the last two readings: 4/3 per second, 0.15 s left at 0.9 s
    assert p.next_delay(0.95) == pytest.approx((0.15 - 0.05) * 1.03 + 0.01, abs=1e-6)
    lone = PollSchedule(jitter=0.0, scale=0.1)
    lone.observe(1.0, 0.01)  # one reading and never seen queued: no prediction, plain backoff
    assert lone.next_delay(1.0) == pytest.approx(0.2)


def test_failure_codes() -> None:
    assert retryable_failure("INTERNAL.BAD_OUTPUT.CODE01")
    assert retryable_failure("THIRD_PARTY.UNAVAILABLE")
    assert not retryable_failure("SAFETY.INPUT.TEXT")
    assert not retryable_failure("ASSET.INVALID")
    assert not retryable_failure(None)


def test_budget_counts_in_flight_and_possibly_billed() -> None:
    b = Budget(100)
    assert b.reserve("a", 60)
    assert not b.reserve("b", 60)  # 60 in flight + 60 > 100
    b.settle("a", 50)
    assert b.reserve("b", 50)
    b.release("b")
    b.possibly_billed += 30
    assert not b.reserve("c", 30) and b.reserve("c", 20)
    assert Budget(None).reserve("x", 10**9)
