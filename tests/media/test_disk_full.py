"""ffmpeg on a full disk exits with status 228 (-ENOSPC): the stitcher and the stand-ins say the disk is full,
naming the file, instead of "ffmpeg ... exit status 228". /dev/full is a real full device, even for root."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from vidspec.errors import WriteError
from vidspec.media.probe import ffmpeg_write_error
from vidspec.media.stitch.ffmpeg_engine import _encode

FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full here")
SOURCE = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=1"]


@needs_dev_full
def test_the_encoder_on_a_full_disk_says_the_disk_is_full(tmp_path: Path) -> None:
    output = tmp_path / "film.mp4"
    with pytest.raises(WriteError) as info:
        _encode([*SOURCE, "-c:v", "libx264", "-f", "mp4", str(FULL)], 1.0, None, tmp_path / "log", output)
    msg = str(info.value)
    assert msg.startswith(f"cannot write {output}: the disk is full") and "228" not in msg
    assert info.value.errno == errno.ENOSPC


@needs_dev_full
def test_a_stand_in_on_a_full_disk_says_the_disk_is_full() -> None:
    from vidspec.backends.preview.standins import _run_ffmpeg

    with pytest.raises(WriteError, match="the disk is full"):
        _run_ffmpeg([*SOURCE, "-f", "mpegts", str(FULL)], "video stand-in x.mp4")


@pytest.mark.parametrize(
    ("rc", "stderr", "code"),
    [
        (228, "", errno.ENOSPC),
        (1, "Error writing trailer: No space left on device", errno.ENOSPC),
        (1, "out.mp4: Read-only file system", errno.EROFS),
        (256 - errno.EDQUOT, "", errno.EDQUOT),
        (1, "Invalid data found when processing input", None),
        (0, "No space left on device", None),
        (256 - errno.EACCES, "in.mp4: Permission denied", None),  # may be a read: not called a write error
    ],
)
def test_ffmpeg_write_errors_are_recognised(rc: int, stderr: str, code: int | None) -> None:
    found = ffmpeg_write_error(rc, stderr)
    assert (found.errno if found is not None else None) == code
