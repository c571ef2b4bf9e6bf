"""One frame of a clip as a PNG: first, last and a time, against every frame decoded on its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidspec.errors import AssetFailed
from vidspec.media.frames import extract_frame
from vidspec.media.probe import ffmpeg_exe

pytestmark = pytest.mark.slow  # ffmpeg


def _all_frames(clip: Path) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(clip), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 180, 320, 3).astype(np.int16)


@pytest.mark.parametrize(("at", "index"), [("first", 0), ("last", -1), (0.5, 12), (1.49, -1), (9.0, -1)])
def test_the_frame_asked_for(media: dict[str, Path], tmp_path: Path, at: str | float, index: int) -> None:
    frames = _all_frames(media["c0"])  # 1.5 s at 24 fps: 36 frames
    out = extract_frame(media["c0"], at, tmp_path / "f.png")
    got = np.asarray(Image.open(out).convert("RGB"), np.int16)
    assert float(np.abs(got - frames[index]).mean()) < 1.0
    others = [float(np.abs(got - f).mean()) for i, f in enumerate(frames) if i != index % len(frames)]
    assert min(others) > 0.0  # testsrc2 changes every frame: it is that one


def test_a_clip_without_video_is_a_clear_failure(media: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(AssetFailed, match="could not take the last frame of n1.wav"):
        extract_frame(media["n1"], "last", tmp_path / "f.png")
