"""Both engines, and the stream-copy fast path, master the mix onto output.loudness; false leaves it raw."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import loudness
from vidspec.media.stitch import stitch
from vidspec.media.stitch.moviepy_engine import load_moviepy
from vidspec.media.timeline import LoudnessTarget, Music, SceneCut, Timeline

pytestmark = pytest.mark.slow  # real media, subprocesses


def _tl(out: Path, media: dict[str, Path], **kw: object) -> Timeline:
    scenes = (
        SceneCut("a", media["c0"], 1.5, narration=media["n1"]),
        SceneCut("b", media["c1"], 1.5),
        SceneCut("c", media["c2"], 1.5, narration=media["n1"], narration_offset=0.3),
    )
    music = Music(media["music"], volume=0.6, fade_in=0.0, fade_out=0.0)
    return Timeline(scenes, out / "film.mp4", 320, 180, fps=24, music=music, preset="ultrafast", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
def test_the_mix_lands_on_the_target(tmp_path: Path, media: dict[str, Path], engine: str) -> None:
    if engine == "moviepy":
        load_moviepy()
    res = stitch(_tl(tmp_path, media, engine=engine, loudness=LoudnessTarget(-20.0, -3.0)))
    assert res.fast_path == (engine == "ffmpeg")  # cuts of identical clips: the picture is stream-copied
    m = loudness(res.path)
    assert abs(m.integrated - -20.0) <= 1.0, m
    assert m.true_peak <= -3.0, m


def test_loudness_false_keeps_every_sound_as_made(tmp_path: Path, media: dict[str, Path]) -> None:
    raw = stitch(_tl(tmp_path / "raw", media, loudness=None))
    mastered = stitch(_tl(tmp_path / "m", media))
    # ffmpeg's sine is -18 dBFS RMS, so the raw mix is quieter than -16 LUFS, the mastered one on it
    quiet = loudness(raw.path).integrated
    print(f"raw mix {quiet:.1f} LUFS")
    assert quiet < -17.5
    assert abs(loudness(mastered.path).integrated - -16.0) <= 1.0
    # a changed target is a changed output: re-stitched, not skipped
    again = stitch(replace(_tl(tmp_path / "m", media), loudness=LoudnessTarget(-23.0)))
    assert not again.skipped and abs(loudness(again.path).integrated - -23.0) <= 1.0


def test_a_picture_only_change_reuses_the_master(
    tmp_path: Path, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidspec.media.stitch import ffmpeg_engine

    mixed: list[Path] = []
    real = ffmpeg_engine.premix

    def counting(*args: Any, **kw: Any) -> Any:
        mixed.append(args[2])
        return real(*args, **kw)

    monkeypatch.setattr(ffmpeg_engine, "premix", counting)
    tl = _tl(tmp_path, media, loudness_cache=tmp_path / "lc")
    first = stitch(tl)
    assert len(mixed) == 1
    # another clip for scene b (same length, no sound of its own): the sound is the same, so is its master
    scenes = (tl.scenes[0], replace(tl.scenes[1], video=media["c2"]), tl.scenes[2])
    second = stitch(replace(tl, scenes=scenes))
    assert not second.skipped and len(mixed) == 1
    assert abs(loudness(second.path).integrated - loudness(first.path).integrated) < 0.2
    # a changed narration is a changed sound: mixed and measured again
    voiced = (*scenes[:2], replace(scenes[2], narration=media["nlong"]))
    stitch(replace(tl, scenes=voiced))
    assert len(mixed) == 2
