"""Atomic writes: a temp file in the same directory, fsync, then os.replace, so a kill at any moment
leaves either the old file or the new one.

A write that fails (a full disk, a read-only file system, no permission) raises WriteError naming the
file and the cause in plain words, never a bare OSError: the user reads one line, not an internal error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from vidspec.errors import WriteError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # mkstemp makes 0600 files; users expect their usual permissions


def atomic_write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(path, exc) from None
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(path, exc) from None
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_move(src: Path, dest: Path) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dest)
        except OSError:  # another filesystem (or the rename itself failed): copy beside the target first
            _copy_then_replace(src, dest)
    except OSError as exc:
        raise WriteError(dest, exc) from None
    _fsync_dir(dest.parent)


def _copy_then_replace(src: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.unlink(src)


def overwrite_in_place(path: Path, data: bytes) -> None:
    """Rewrite an existing small file over its own blocks: the last resort when the disk is too full for a
    temp file. Not atomic against a power cut, but one write(2) of a few hundred bytes into a block the
    file already owns cannot be torn by a kill. ``data`` is padded with spaces to the old length, so the
    file never needs truncating (JSON ignores trailing whitespace)."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            old = os.fstat(fd).st_size
            os.pwrite(fd, data.ljust(old, b" "), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise WriteError(path, exc) from None


def check_writable_dir(directory: Path) -> None:
    """Make ``directory`` if needed and prove it is writable with a real file (created, then removed):
    permission bits say nothing for root, a read-only mount or a full disk. Raises WriteError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".vidspec-write-test.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WriteError(directory, exc) from None


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
