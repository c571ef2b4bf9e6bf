"""Every child process vidspec starts (ffmpeg, the speech helper) dies with it: a SIGKILLed build must not
leave an ffmpeg encoding on (Linux: PR_SET_PDEATHSIG, set in the child before exec)."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vidspec"
HOME = PACKAGE / "media" / "probe.py"  # the one module that calls subprocess

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def test_every_child_is_started_through_the_one_spawn_helper() -> None:
    """A subprocess call anywhere else would start a child that outlives a killed build."""
    starters = {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == HOME or "testing" in path.relative_to(PACKAGE).parts:
            continue  # vidspec.testing is the tests' own machinery, never part of a build
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in starters
                and isinstance(node.value, ast.Name)
                and node.value.id == "subprocess"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: subprocess.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "subprocess":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: from subprocess import ...")
    assert offenders == []


def _ffmpeg_children(pid: int) -> list[int]:
    """ffmpeg processes whose parent is ``pid`` (short-lived ones may vanish while we look: skipped)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and b"ffmpeg" in cmdline and b"-version" not in cmdline:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaps, as in a container without an init, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# A minute of real encoding, paced by -re so it never finishes on its own during the test.
LONG = ["-re", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=120", "-f", "null", "-"]

PARENTS = {
    "probe.run_ffmpeg": """
        from vidspec.media.probe import run_ffmpeg
        run_ffmpeg(*ARGS)
    """,
    "stitch encoder": """
        from pathlib import Path
        from vidspec.media.stitch.ffmpeg_engine import _encode
        tmp = Path(TMP)
        _encode(ARGS, 120.0, None, tmp / "ffmpeg.log", tmp / "out.mp4")
    """,
    "encoder started from a worker thread": """
        import threading
        from pathlib import Path
        from vidspec.media.stitch.ffmpeg_engine import _encode
        tmp = Path(TMP)
        t = threading.Thread(target=_encode, args=(ARGS, 120.0, None, tmp / "ffmpeg.log", tmp / "out.mp4"))
        t.start()
        t.join()
    """,
}


@linux_only
@pytest.mark.slow
@pytest.mark.parametrize("how", list(PARENTS))
def test_ffmpeg_dies_when_its_parent_is_killed(tmp_path: Path, how: str) -> None:
    code = f"ARGS = {LONG!r}\nTMP = {str(tmp_path)!r}\n" + textwrap.dedent(PARENTS[how])
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        kids: list[int] = []
        while time.monotonic() < deadline and not kids:
            kids = _ffmpeg_children(parent.pid)  # not imageio-ffmpeg's own `ffmpeg -version` check
            time.sleep(0.05)
        assert kids, "ffmpeg never started"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.05)
        left = [k for k in kids if _alive(k)]
        for k in left:  # do not leave it running whatever the outcome
            os.kill(k, signal.SIGKILL)
        assert left == [], "ffmpeg outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


@linux_only
def test_the_spawn_helper_still_reports_a_missing_program(tmp_path: Path) -> None:
    from vidspec.media.probe import run_child

    with pytest.raises(FileNotFoundError):
        run_child([str(tmp_path / "no-such-program")])
    done = run_child([sys.executable, "-c", "import sys; sys.exit(3)"], capture_output=True)
    assert done.returncode == 3
