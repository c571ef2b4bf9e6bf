"""A write that fails (full disk, read-only file system, no permission) is a clear message naming the path and
the cause, never an OSError reaching the user as an internal error; the journal keeps a task id even when the
disk is full."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from vidspec.errors import VidspecError, WriteError, os_error_cause
from vidspec.store import atomic
from vidspec.store.atomic import atomic_move, atomic_write_text, check_writable_dir
from vidspec.store.cache import LocalStore, Record
from vidspec.store.journal import Journal, JournalEntry


def _fail_mkstemp(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EDQUOT, "disk quota"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
        (errno.EPERM, "permission denied"),
    ],
)
def test_a_failed_atomic_write_names_the_path_and_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, says: str
) -> None:
    target = tmp_path / "film.lock.json"
    _fail_mkstemp(monkeypatch, code)
    with pytest.raises(WriteError) as info:
        atomic_write_text(target, "{}")
    err = info.value
    assert isinstance(err, VidspecError) and err.exit_code == 1
    assert str(target) in str(err) and says in str(err)
    assert err.errno == code and err.path == str(target)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_file_where_a_directory_belongs_is_a_clear_write_error(tmp_path: Path) -> None:
    # Works as root too (chmod does not stop root; a file in the way does).
    (tmp_path / "journal").write_text("not a directory")
    with pytest.raises(WriteError) as info:
        atomic_write_text(tmp_path / "journal" / "x.json", "{}")
    assert "a file is in the way" in str(info.value) and str(tmp_path / "journal") in str(info.value)


def test_a_failed_move_into_the_cache_is_a_write_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "dl.mp4"
    src.write_bytes(b"x" * 100)

    def replace(a: object, b: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(WriteError) as info:
        atomic_move(src, tmp_path / "objects" / "ab" / "x.mp4")
    assert "the disk is full" in str(info.value) and "x.mp4" in str(info.value)
    assert src.exists()  # nothing of the user's is lost
    assert list((tmp_path / "objects" / "ab").iterdir()) == []  # no temp file left behind


def test_store_put_on_a_full_disk_is_a_write_error_and_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "runway")
    src = store.tmp_dir() / "dl.mp4"
    src.write_bytes(b"video")
    key = "sha256:" + "ab" * 32
    rec = Record(key, "a.video", "video", "gen4.5", "text_to_video", "ab" * 32 + ".mp4", "0", 5, 5.0,
                 "t1", 10, 10, 0.0)  # fmt: skip
    _fail_mkstemp(monkeypatch, errno.ENOSPC)
    with pytest.raises(WriteError, match="the disk is full"):
        store.put(key, src, rec)
    assert store.get(key) is None


def test_the_journal_keeps_a_task_id_when_the_disk_fills_after_the_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "journal")
    key = "sha256:" + "cd" * 32
    intent = JournalEntry(key, "a.video", "text_to_video", "gen4.5", None, 1.0, 24, "submitting")
    journal.write(intent)
    _fail_mkstemp(monkeypatch, errno.ENOSPC)  # no room for a new temp file any more
    tid = "b51c5435-0a8a-4c96-8118-325da5eb0180"
    journal.write(JournalEntry(key, "a.video", "text_to_video", "gen4.5", tid, 1.0, 24))
    got = journal.get(key)
    assert got is not None and got.task_id == tid and got.state == "submitted"
    # A new entry has no block to reuse: it fails loudly rather than losing the id silently.
    other = "sha256:" + "ef" * 32
    with pytest.raises(WriteError, match="the disk is full"):
        journal.write(JournalEntry(other, "b.video", "text_to_video", "gen4.5", None, 1.0, 24, "submitting"))


def test_the_journal_does_not_overwrite_in_place_when_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "journal")
    key = "sha256:" + "cd" * 32
    journal.write(JournalEntry(key, "a.video", "text_to_video", "gen4.5", None, 1.0, 24, "submitting"))
    _fail_mkstemp(monkeypatch, errno.EROFS)
    with pytest.raises(WriteError, match="read-only"):
        journal.write(JournalEntry(key, "a.video", "text_to_video", "gen4.5", "t1", 1.0, 24))


def test_check_writable_dir_probes_with_a_real_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_writable_dir(tmp_path / "new" / "dir")  # made on the way
    assert (tmp_path / "new" / "dir").is_dir() and list((tmp_path / "new" / "dir").iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match="a file is in the way"):
        check_writable_dir(tmp_path / "file")

    def refuse(*args: object, **kwargs: object) -> object:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(WriteError) as info:
        check_writable_dir(tmp_path / "new")
    assert str(tmp_path / "new") in str(info.value) and "read-only" in str(info.value)


def test_advice_is_appended_to_the_message() -> None:
    err = WriteError(Path("/x/y"), OSError(errno.ENOSPC, "No space left on device"))
    err.advice = "run the same command again"
    assert str(err) == "cannot write /x/y: the disk is full; run the same command again"
    assert os_error_cause(OSError(errno.EIO, "Input/output error")) == "Input/output error"
