"""The stitcher checks every clip it was given a sha256 for, right before it cuts: a damaged clip never reaches
the film, even with force."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from vidspec.errors import StitchError
from vidspec.media.probe import probe
from vidspec.media.stitch import stitch
from vidspec.media.timeline import SceneCut, Timeline
from vidspec.store.cache import forget_verifications

pytestmark = pytest.mark.slow  # real media through ffmpeg


def test_a_clip_that_no_longer_matches_its_sha256_is_refused(tmp_path: Path, media: dict[str, Path]) -> None:
    forget_verifications()
    clips = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for src, dest in zip((media["c0"], media["c1"]), clips):
        shutil.copyfile(src, dest)
    sums = tuple((str(p), hashlib.sha256(p.read_bytes()).hexdigest()) for p in clips)
    out = tmp_path / "build" / "film.mp4"
    tl = Timeline(
        tuple(SceneCut(p.stem, p, 1.5) for p in clips), out, 320, 180, preset="ultrafast", checksums=sums
    )
    first = stitch(tl)
    assert first.duration == pytest.approx(3.0, abs=1 / 24) and probe(out).has_video
    before = out.stat().st_mtime_ns
    data = bytearray(clips[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size
    clips[1].write_bytes(bytes(data))
    with pytest.raises(StitchError) as err:
        stitch(tl, force=True)
    assert str(clips[1]) in str(err.value) and "sha256" in str(err.value)
    assert out.stat().st_mtime_ns == before  # the old cut stays; nothing was published
    clips[1].unlink()
    with pytest.raises(StitchError, match="missing|not found"):
        stitch(tl, force=True)
