"""The moviepy engine (output.engine: moviepy) against the ffmpeg engine, on tiny generated media."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import video_stream_length as _video_len
from vidspec.errors import StitchError
from vidspec.media.probe import ffmpeg_exe, mean_volume_db, probe
from vidspec.media.stitch import stitch
from vidspec.media.stitch.moviepy_engine import load_moviepy
from vidspec.media.timeline import Music, SceneCut, Timeline

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server

load_moviepy()  # through vidspec's guard: importing moviepy must not read a .env into the test process

FPS = 24
FRAME = 1 / FPS
W, H = 320, 180


def _frame(path: Path, index: int) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})", "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(float)


def _tl(out: Path, scenes: tuple[SceneCut, ...], **kw: object) -> Timeline:
    return Timeline(scenes, out / "film.mp4", W, H, fps=FPS, preset="ultrafast", engine="moviepy", **kw)  # type: ignore[arg-type]


def _scene(sid: str, video: Path, **kw: object) -> SceneCut:
    return SceneCut(sid, video, 1.5, **kw)  # type: ignore[arg-type]


@pytest.mark.slow
def test_same_cut_as_the_ffmpeg_engine(
    tmp_path: Path, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    scenes = (
        _scene("a", media["c0"], narration=media["n1"], narration_text="Hello there. This is the first scene."),
        _scene(
            "b", media["sq"], transition="crossfade", transition_duration=0.5, narration=media["nlong"],
            narration_text="A long one, that goes on; and on.", narration_offset=0.1, keep_audio=False,
        ),  # b is extended: 0.1 + 2.2 > 1.5
        _scene("c", media["c2"], transition="fade", transition_duration=0.6),
    )  # fmt: skip
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # moviepy's default temp audio file would land here
    tl = _tl(tmp_path / "mp", scenes)
    seen: list[tuple[float, float]] = []
    capfd.readouterr()
    res = stitch(tl, progress=lambda done, total: seen.append((done, total)))
    assert capfd.readouterr() == ("", "")  # nothing printed over the build display
    ref = stitch(replace(tl, output=tmp_path / "ff" / "film.mp4", engine="ffmpeg"))

    assert not res.fast_path and not res.skipped
    assert res.duration == ref.duration
    assert abs(_video_len(res.path) - ref.duration) <= FRAME
    assert abs(_video_len(res.path) - _video_len(ref.path)) <= FRAME
    info = probe(res.path)
    assert (info.width, info.height, info.fps, info.video_codec, info.audio_codec) == (
        W,
        H,
        24.0,
        "h264",
        "aac",
    )
    assert res.srt.read_text() == ref.srt.read_text() and res.srt.read_text().count("-->") == 2
    assert res.vtt.read_text() == ref.vtt.read_text()

    # sound: narration a, then narration b over b's held frame, then scene c silent
    assert mean_volume_db(res.path, 0.2, 0.6) > -40
    assert mean_volume_db(res.path, 1.4, 1.5) > -40
    assert mean_volume_db(res.path, res.duration - 0.6, 0.5) < -80
    for start in (0.2, 1.4, 2.5):
        assert abs(mean_volume_db(res.path, start, 0.5) - mean_volume_db(ref.path, start, 0.5)) < 1.5

    # picture: the same frames up to encoding and blending-colour-space noise
    for index in (6, 30, 60, round(ref.duration * FPS) - 2):
        diff = np.abs(_frame(res.path, index) - _frame(ref.path, index)).mean()
        assert diff < 10, (index, diff)
    assert _frame(res.path, 79).mean() < 20  # c starts at frame 79, its fade from black

    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and len(dones) >= 2
    assert all(t == res.duration for _, t in seen) and seen[-1] == (res.duration, res.duration)

    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in tl.output.parent.iterdir()) == [
        "film.mp4", "film.mp4.manifest.json", "film.srt", "film.vtt",
    ]  # fmt: skip


def test_switching_engine_restitches_and_same_engine_skips(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (_scene("a", media["c0"], narration=media["n1"]), _scene("b", media["c1"]))
    tl = _tl(tmp_path, scenes)
    first = stitch(tl)
    assert not first.skipped and not first.fast_path  # cuts only: still rendered by moviepy, never copied
    manifest = json.loads(first.manifest.read_text())
    assert manifest["inputs"]["renderer"].startswith("moviepy")
    assert stitch(tl).skipped
    other = stitch(replace(tl, engine="ffmpeg"))
    assert not other.skipped and other.fast_path
    assert json.loads(other.manifest.read_text())["digest"] != manifest["digest"]
    back = stitch(tl)
    assert not back.skipped and back.duration == first.duration


@pytest.mark.slow
def test_contain_burned_captions_and_ducked_music(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (
        _scene("a", media["sq"], fit="contain", keep_audio=False),
        _scene(
            "b", media["c1"], narration=media["hush"], narration_offset=0.2, narration_text="Burned words."
        ),
        _scene("c", media["c2"]),
    )
    music = Music(media["music"], volume=1.0, fade_in=0.0, fade_out=0.0, duck=0.3)
    res = stitch(_tl(tmp_path / "mp", scenes, music=music, captions="burn"))
    plain = stitch(replace(_tl(tmp_path / "ff", scenes, music=music, captions="burn"), engine="ffmpeg"))
    assert abs(_video_len(res.path) - 4.5) <= FRAME
    # a 200x200 clip contained in 320x180 is 180 wide: 70 px black bars
    assert _frame(res.path, 12)[:, :60].max() < 30 and _frame(res.path, 12)[:, 80:240].max() > 100

    def changed(a: np.ndarray, b: np.ndarray) -> float:
        """Share of the bottom third's pixels that differ by more than encoding noise."""
        return float((np.abs(a[120:] - b[120:]).max(axis=2) > 60).mean())

    captioned = _frame(res.path, 48)  # 2.0 s: inside the cue (1.7 .. 2.7 s)
    assert changed(captioned, _frame(media["c1"], 12)) > 0.05  # vs the clip itself: the caption is there
    assert changed(captioned, _frame(plain.path, 48)) < 0.01  # where the ffmpeg engine draws it
    assert changed(_frame(res.path, 84), _frame(media["c2"], 12)) < 0.01  # 3.5 s: no caption
    # 0.7 s of music looped across 4.5 s, ducked by -10.5 dB in 1.7..2.7 s, as the ffmpeg engine does
    open_db, ducked = mean_volume_db(res.path, 0.2, 1.0), mean_volume_db(res.path, 1.8, 0.8)
    assert open_db > -40 and mean_volume_db(res.path, 3.4, 1.0) > -40
    assert -13 < ducked - open_db < -8
    assert abs(ducked - mean_volume_db(plain.path, 1.8, 0.8)) < 1.0


def test_failures_are_stitch_errors_and_leave_nothing(tmp_path: Path, media: dict[str, Path]) -> None:
    tl = replace(_tl(tmp_path, (_scene("a", media["c0"]), _scene("b", media["sq"]))), preset="nosuch")
    with pytest.raises(StitchError, match="moviepy failed") as exc:
        stitch(tl)
    assert "preset" in str(exc.value).lower()
    assert list(tl.output.parent.iterdir()) == []


def test_an_interrupted_render_cleans_up(tmp_path: Path, media: dict[str, Path]) -> None:
    tl = _tl(tmp_path, (_scene("a", media["c0"]), _scene("b", media["c1"], transition="crossfade")))

    def interrupt(done: float, total: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stitch(tl, progress=interrupt)
    assert list(tl.output.parent.iterdir()) == []
    assert _children() == []  # every decoder and the encoder are gone


def _children() -> list[int]:
    """Live child processes of this one (Linux /proc; empty where there is none)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            kids.append(int(stat.parent.name))
    return kids
