"""Disks and permissions: a read-only cache, a read-only project and a full disk each end in one clear line
naming the path and the cause (exit 1, never an internal error), before any create when it can be known
then, and with the journal intact when the disk fills after paying, so that the next run re-attaches.

Tests run as root here, where chmod stops no write: a real read-only file system comes from a bind mount
remounted read-only, a real full disk from a small tmpfs, both inside a private mount namespace
(``unshare -m``) that vanishes with the command. Where that is not possible, a non-root user gets chmod for
read-only, and the full disk is covered by the injected fault alone.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import run, summary
from vidspec.testing.fake_runway import FakeRunway

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server

KEY = "test-key-not-real-disk"
FAST = ["--poll-scale", "0.02", "--json"]

SPEC = """\
version: 1
name: film
defaults: {ratio: "1280:720", duration: 2}
scenes:
  - id: harbour
    prompt: "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
  - id: market
    prompt: "A fishmonger lays fresh catch on crushed ice, handheld close-up"
"""


@cache
def _private_mounts() -> str | None:
    """None when mounts in a private namespace work here, else why not."""
    if os.geteuid() != 0:
        return "needs root for a private mount namespace"
    if shutil.which("unshare") is None:
        return "no unshare(1)"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt && umount /mnt"],
        capture_output=True,
        text=True,
    )
    return None if probe.returncode == 0 else f"mounts refused here: {probe.stderr.strip()}"


def _in_mounts(setup: list[str], cmd: list[str]) -> list[str]:
    """``cmd`` run in a private mount namespace after ``setup`` (shell lines); the mounts die with it."""
    return ["unshare", "-m", "sh", "-c", " && ".join([*setup, 'exec "$@"']), "sh", *cmd]


def _read_only(path: Path) -> list[str]:
    p = shlex.quote(str(path))
    return [f"mount --bind {p} {p}", f"mount -o remount,bind,ro {p}"]


def _small_disk(path: Path, size: str) -> list[str]:
    return [f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(path))}"]


def _bind(src: Path, dest: Path) -> list[str]:
    return [f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(dest))}"]


def _vidspec(*args: str) -> list[str]:
    return [sys.executable, "-m", "vidspec", *args]


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.1) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "film.yaml").write_text(SPEC, "utf-8")
    return root


def _env() -> dict[str, str]:
    return dict(os.environ, COLUMNS="160")


def _journal_ids(journal: Path) -> list[str]:
    return sorted(json.loads(p.read_text())["task_id"] or "" for p in journal.glob("*.json"))


# ------------------------------------------------------------------------------------------ read-only


def test_a_read_only_cache_is_refused_before_any_create(
    fake: FakeRunway, project: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    spec = project / "film.yaml"
    cmd = _vidspec("build", str(spec), "--yes", "--cache-dir", str(cache_dir), "--no-stitch", *FAST)
    if _private_mounts() is None:
        done = _run(_in_mounts(_read_only(cache_dir), cmd), _env())
    elif os.geteuid() != 0:
        cache_dir.chmod(0o555)
        try:
            done = _run(cmd, _env())
        finally:
            cache_dir.chmod(0o755)
    else:
        pytest.skip(str(_private_mounts()))
    assert done.returncode == 1, done.stderr
    assert f"cannot write {cache_dir}" in done.stderr
    assert "read-only" in done.stderr or "permission denied" in done.stderr
    assert "nothing was spent" in done.stderr
    assert fake.create_count() == 0


def test_a_read_only_project_is_refused_before_any_create(
    fake: FakeRunway, project: Path, tmp_path: Path
) -> None:
    """The spec's directory (where the lockfile goes) is read-only; build/ and the cache are writable."""
    reason = _private_mounts()
    if reason is not None:
        pytest.skip(reason)
    for d in ("build", ".vidspec"):
        (project / d).mkdir()
        (tmp_path / f"w{d}").mkdir()
    setup = [*_read_only(project), *_bind(tmp_path / "wbuild", project / "build")]
    setup += _bind(tmp_path / "w.vidspec", project / ".vidspec")
    done = _run(_in_mounts(setup, _vidspec("build", str(project / "film.yaml"), "--yes", *FAST)), _env())
    assert done.returncode == 1, done.stderr
    assert f"cannot write {project}: the file system is read-only" in done.stderr
    assert fake.create_count() == 0


def test_a_cached_build_still_runs_from_a_read_only_checkout(
    fake: FakeRunway, project: Path, tmp_path: Path
) -> None:
    """Nothing to make, the lockfile up to date: the spec's directory need not be writable."""
    reason = _private_mounts()
    if reason is not None:
        pytest.skip(reason)
    cmd = _vidspec("build", str(project / "film.yaml"), "--yes", "--no-stitch", *FAST)
    assert _run(cmd, _env()).returncode == 0
    fake.reset_counters()
    for d in ("build", ".vidspec"):
        shutil.copytree(project / d, tmp_path / f"w{d}")
    setup = [*_read_only(project), *_bind(tmp_path / "wbuild", project / "build")]
    setup += _bind(tmp_path / "w.vidspec", project / ".vidspec")
    done = _run(_in_mounts(setup, cmd), _env())
    assert done.returncode == 0, done.stderr
    assert summary(done.stdout)["cached"] == 2 and fake.create_count() == 0


# ------------------------------------------------------------------------------------------ full disk


def test_a_full_disk_after_paying_keeps_the_journal_and_the_next_run_reattaches(
    fake: FakeRunway, project: Path
) -> None:
    """A real full disk: the downloads land on a 64 KiB tmpfs, the clips are ~150 KB."""
    reason = _private_mounts()
    if reason is not None:
        pytest.skip(reason)
    spec = project / "film.yaml"
    dl = project / ".vidspec" / "runway" / "tmp"
    dl.mkdir(parents=True)
    cmd = _vidspec("build", str(spec), "--yes", "--no-stitch", *FAST)
    done = _run(_in_mounts(_small_disk(dl, "64k"), cmd), _env())
    assert done.returncode == 1, done.stderr
    assert "the disk is full" in done.stderr and str(dl) in done.stderr
    assert "run the same command" in done.stderr and "re-attach" in done.stderr
    paid = fake.create_count()
    assert paid == 2
    ids = _journal_ids(project / ".vidspec" / "journal")
    assert len(ids) == 2 and all(ids)  # every paid task is journaled with its id
    fake.reset_counters()
    again = _run(cmd, _env())
    assert again.returncode == 0, again.stderr
    assert fake.create_count() == 0 and summary(again.stdout)["generated"] == 2


def test_a_full_disk_injected_after_paying_is_one_line_and_resumable(
    fake: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same without root: the first write of a download raises ENOSPC, as a full disk would."""
    spec = project / "film.yaml"
    real_open = Path.open

    class FullDisk:
        def __init__(self, f: object) -> None:
            self._f = f

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self._f.close()  # type: ignore[attr-defined]

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str) -> object:
            return getattr(self._f, name)

    def open_(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        f = real_open(self, mode, *args, **kwargs)  # type: ignore[arg-type]
        return FullDisk(f) if "w" in mode and self.parent.name == "tmp" else f

    monkeypatch.setattr(Path, "open", open_)
    code, out, err = run(["build", str(spec), "--yes", "--no-stitch", *FAST], capsys)
    monkeypatch.undo()
    monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
    monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("vidspec: cannot write ") and "the disk is full" in line
    assert str(project / ".vidspec" / "runway" / "tmp") in line and "internal error" not in err
    assert fake.create_count() == 2
    ids = _journal_ids(project / ".vidspec" / "journal")
    assert len(ids) == 2 and all(ids)
    fake.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", "--no-stitch", *FAST], capsys)
    assert code == 0, err
    assert fake.create_count() == 0 and summary(out)["generated"] == 2


def test_a_full_output_disk_while_stitching_says_so(project: Path) -> None:
    """ffmpeg on a full disk exits with status 228 (-ENOSPC): the user reads "the disk is full"."""
    reason = _private_mounts()
    if reason is not None:
        pytest.skip(reason)
    out_dir = project / "build"
    out_dir.mkdir()
    env = {k: v for k, v in _env().items() if k not in ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL")}
    cmd = _vidspec("build", str(project / "film.yaml"), "--backend", "preview", "--json")
    done = _run(_in_mounts(_small_disk(out_dir, "32k"), cmd), env)
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "the disk is full" in line and str(out_dir / "film.preview.mp4") in line
    assert "exit status 228" not in done.stderr
    assert "cached" in line  # what the user keeps: nothing is made again on the next run
