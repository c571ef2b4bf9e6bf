"""vidspec.stitch on tiny generated media (320x180, 24 fps, ultrafast): durations, audio, captions, caching."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.helpers import ff as _ff
from tests.helpers import video_stream_length as _video_len
from vidspec.errors import StitchError
from vidspec.media.placement import plan_scenes, plan_timeline
from vidspec.media.probe import audio_length, ffmpeg_exe, mean_volume_db, measured_duration, probe
from vidspec.media.stitch import stitch
from vidspec.media.timeline import Music, SceneCut, Timeline

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server

FPS = 24
FRAME = 1 / FPS


def _frame(path: Path, t: float, dest: Path) -> Image.Image:
    _ff("-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1", str(dest))
    return Image.open(dest).convert("RGB")


def _tl(tmp_path: Path, scenes: tuple[SceneCut, ...], **kw: object) -> Timeline:
    return Timeline(scenes, tmp_path / "build" / "film.mp4", 320, 180, fps=FPS, preset="ultrafast", **kw)  # type: ignore[arg-type]


def _scene(sid: str, video: Path, **kw: object) -> SceneCut:
    return SceneCut(sid, video, 1.5, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the plan, pure


def test_plan_cuts_crossfade_fade_and_extend() -> None:
    scenes = (
        _scene("a", Path("a"), narration=Path("n"), narration_offset=0.5),
        _scene("b", Path("b"), transition="crossfade", transition_duration=0.5),
        _scene("c", Path("c"), transition="fade", transition_duration=1.0),
    )
    tl = Timeline(scenes, Path("out.mp4"), 320, 180, fps=FPS)
    places = plan_scenes(tl, [2.0, 3.0, 2.0], [2.5, None, None])
    assert [p.length for p in places] == [3.0, 3.0, 2.0]  # a is held until its narration ends
    assert places[0].hold == pytest.approx(1.0) and places[0].narration == (0.5, 3.0)
    assert [p.start for p in places] == [0.0, 2.5, 5.5]
    assert places[-1].end == 7.5  # 3 + 3 + 2 - 0.5


def test_plan_total_stays_on_the_frame_grid_over_many_scenes() -> None:
    scenes = tuple(
        _scene(str(i), Path("v"), transition="crossfade", transition_duration=0.33) for i in range(40)
    )
    tl = Timeline(scenes, Path("out.mp4"), 320, 180, fps=FPS)
    places = plan_scenes(tl, [2.01] * 40, [None] * 40)
    expected = 40 * 2.01 - 39 * 0.33
    assert abs(places[-1].end - expected) <= FRAME / 2


def test_plan_rejects_transitions_longer_than_a_scene() -> None:
    scenes = (_scene("a", Path("a")), _scene("b", Path("b"), transition="crossfade", transition_duration=1.5))
    with pytest.raises(StitchError, match="'b'.*not shorter than scene 'b'"):
        plan_scenes(Timeline(scenes, Path("o.mp4"), 320, 180), [2.0, 1.0], [None, None])


def test_plan_error_policy_names_scene_and_lengths() -> None:
    scenes = (_scene("intro", Path("a"), narration=Path("n"), fit_audio="error"),)
    with pytest.raises(StitchError, match=r"'intro'.*2\.20 s.*1\.50 s"):
        plan_scenes(Timeline(scenes, Path("o.mp4"), 320, 180), [1.5], [2.2])


# ---------------------------------------------------------------- real stitches


def test_streamed_wav_header_is_not_trusted(tmp_path: Path) -> None:
    # ffmpeg writing WAV to a pipe cannot seek back to fill in the sizes
    path = tmp_path / "streamed.wav"
    with path.open("wb") as f:
        subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=d=0.75",
                "-f",
                "wav",
                "pipe:1",
            ],
            stdout=f,
            check=True,
        )
    assert abs(audio_length(path) - 0.75) < 0.01


def test_cuts_take_the_fast_path(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (
        _scene("a", media["c0"], narration=media["n1"], narration_text="One.", narration_offset=0.25),
        _scene("b", media["c1"]),
        _scene("c", media["c2"]),
    )
    seen: list[tuple[float, float]] = []
    res = stitch(_tl(tmp_path, scenes), progress=lambda done, total: seen.append((done, total)))
    assert res.fast_path and not res.skipped
    assert abs(res.duration - 4.5) < 1e-9
    info = probe(res.path)
    assert (info.width, info.height, info.fps, info.video_codec, info.has_audio) == (
        320,
        180,
        24.0,
        "h264",
        True,
    )
    assert abs(_video_len(res.path) - 4.5) <= FRAME
    assert abs(measured_duration(res.path) - 4.5) <= FRAME
    assert mean_volume_db(res.path, 0.35, 0.8) > -40
    assert mean_volume_db(res.path, 1.6, 2.5) < -80
    assert seen and seen[-1] == (res.duration, res.duration)


def test_crossfade_fade_extend_and_captions(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (
        _scene(
            "a", media["c0"], narration=media["n1"], narration_text="Hello there. This is the first scene."
        ),
        _scene(
            "b",
            media["sq"],
            transition="crossfade",
            transition_duration=0.5,
            narration=media["nlong"],
            narration_text="A long one, that goes on; and on.",
            narration_offset=0.1,
            keep_audio=False,
        ),  # fmt: skip
        _scene("c", media["c2"], transition="fade", transition_duration=0.6),
    )
    tl = _tl(tmp_path, scenes)
    places = plan_timeline(tl)
    nlong = measured_duration(media["nlong"])
    # b is extended: 0.1 + 2.2 > 1.5
    expected = 1.5 + (0.1 + nlong) + 1.5 - 0.5
    res = stitch(tl)
    assert not res.fast_path
    assert abs(res.duration - expected) <= FRAME / 2
    assert abs(_video_len(res.path) - expected) <= FRAME
    info = probe(res.path)
    assert (info.width, info.height, info.fps, info.has_audio) == (320, 180, 24.0, True)
    b = places[1]
    assert b.start == pytest.approx(1.0) and b.hold > 0.7
    assert mean_volume_db(res.path, b.start + 0.2, 2.0) > -40  # narration b plays over the held frame
    assert mean_volume_db(res.path, expected - 0.6, 0.5) < -80  # scene c has no sound

    srt = res.srt.read_text()
    times = [ln for ln in srt.splitlines() if "-->" in ln]
    assert len(times) == 2

    def secs(s: str) -> float:
        h, m, rest = s.split(":")
        return int(h) * 3600 + int(m) * 60 + float(rest.replace(",", "."))

    a0, a1 = (secs(x) for x in times[0].split(" --> "))
    b0, b1 = (secs(x) for x in times[1].split(" --> "))
    assert abs(a0 - 0.0) < 0.05 and abs(a1 - measured_duration(media["n1"])) < 0.05
    assert abs(b0 - 1.1) < 0.05 and abs(b1 - (1.1 + nlong)) < 0.05
    assert res.vtt.read_text().startswith("WEBVTT")


def test_trim_cuts_the_narration_at_the_scene_end(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (
        _scene("a", media["c0"], narration=media["nlong"], fit_audio="trim", narration_text="Cut short."),
        _scene("b", media["c1"]),
    )
    res = stitch(_tl(tmp_path, scenes))
    assert abs(res.duration - 3.0) <= FRAME / 2
    assert mean_volume_db(res.path, 0.2, 1.0) > -40
    assert mean_volume_db(res.path, 1.6, 1.0) < -80  # the extend policy would still be talking here
    assert res.cues[0].end == pytest.approx(1.5)


def test_error_policy_raises_and_writes_nothing(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (_scene("intro", media["c0"], narration=media["nlong"], fit_audio="error"),)
    tl = _tl(tmp_path, scenes)
    with pytest.raises(StitchError, match="'intro'"):
        stitch(tl)
    assert not tl.output.exists()


@pytest.mark.slow
def test_second_stitch_is_skipped_and_changes_restitch(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (
        _scene("a", media["c0"]),
        _scene("b", media["c1"], transition="crossfade", transition_duration=0.5),
    )
    tl = _tl(tmp_path, scenes)
    first = stitch(tl)
    assert first.srt.read_text() == "" and first.vtt.read_text() == "WEBVTT\n"
    mtime = first.path.stat().st_mtime_ns
    again = stitch(tl)
    assert again.skipped and again.duration == first.duration and again.path.stat().st_mtime_ns == mtime
    changed = stitch(replace(tl, scenes=(scenes[0], replace(scenes[1], transition="fade"))))
    assert not changed.skipped and abs(changed.duration - 3.0) <= FRAME / 2
    assert stitch(tl, force=True).skipped is False
    # an output replaced behind the manifest's back is not trusted
    os.utime(tl.output, ns=(0, 0))
    assert stitch(tl).skipped is False
    # no temp files left beside the output
    assert sorted(p.name for p in tl.output.parent.iterdir()) == [
        "film.mp4", "film.mp4.manifest.json", "film.srt", "film.vtt",
    ]  # fmt: skip


def test_an_interrupted_stitch_leaves_the_previous_output_alone(
    tmp_path: Path, media: dict[str, Path]
) -> None:
    scenes = (_scene("a", media["c0"]), _scene("b", media["c1"]))
    tl = _tl(tmp_path, scenes)
    first = stitch(tl)
    mtime = first.path.stat().st_mtime_ns

    def interrupt(done: float, total: float) -> None:
        raise KeyboardInterrupt

    changed = replace(tl, scenes=(scenes[0], replace(scenes[1], transition="crossfade")))
    with pytest.raises(KeyboardInterrupt):
        stitch(changed, progress=interrupt)
    assert first.path.stat().st_mtime_ns == mtime
    assert not [p for p in tl.output.parent.iterdir() if p.name.startswith(".")]
    assert stitch(tl).skipped  # the manifest still describes the untouched file


def test_fit_contain_letterboxes_and_keep_audio_plays(tmp_path: Path, media: dict[str, Path]) -> None:
    contain = stitch(_tl(tmp_path / "contain", (_scene("a", media["sq"], fit="contain"),)))
    cover = stitch(_tl(tmp_path / "cover", (_scene("a", media["sq"], fit="cover"),)))
    left = (0, 0, 40, 180)  # a 200x200 clip contained in 320x180 is 180 wide: 70 px black bars
    img = _frame(contain.path, 0.5, tmp_path / "contain.png")
    assert max(img.crop(left).convert("L").getdata()) < 30
    img2 = _frame(cover.path, 0.5, tmp_path / "cover.png")
    assert max(img2.crop(left).convert("L").getdata()) > 100
    assert mean_volume_db(contain.path, 0.2, 1.0) > -40  # the clip's own sine
    assert abs(contain.duration - 1.5) <= FRAME / 2


def test_music_loops_fades_and_ducks_under_narration(tmp_path: Path, media: dict[str, Path]) -> None:
    scenes = (
        _scene("a", media["c0"]),
        _scene("b", media["c1"], narration=media["hush"], narration_offset=0.2),
        _scene("c", media["c2"]),
    )
    music = Music(media["music"], volume=1.0, fade_in=0.0, fade_out=0.0, duck=0.3)
    res = stitch(_tl(tmp_path, scenes, music=music))
    # 0.7 s of music looped across 4.5 s; ducked by 20*log10(0.3) = -10.5 dB in 1.7..2.7 s
    open_db = mean_volume_db(res.path, 0.2, 1.0)
    ducked = mean_volume_db(res.path, 1.8, 0.8)
    assert open_db > -40 and mean_volume_db(res.path, 3.4, 1.0) > -40
    assert -13 < ducked - open_db < -8


def test_no_audio_sources_still_gives_a_silent_track(tmp_path: Path, media: dict[str, Path]) -> None:
    res = stitch(
        _tl(
            tmp_path,
            (_scene("a", media["c0"], transition="fade"), _scene("b", media["sq"], keep_audio=False)),
        )
    )
    assert probe(res.path).has_audio
    assert mean_volume_db(res.path) < -80


def test_ffmpeg_failure_is_a_stitch_error_with_stderr(tmp_path: Path, media: dict[str, Path]) -> None:
    tl = replace(
        _tl(tmp_path, (_scene("a", media["c0"], fit="stretch"), _scene("b", media["sq"]))), preset="nosuch"
    )
    with pytest.raises(StitchError, match="ffmpeg failed") as exc:
        stitch(tl)
    assert "preset" in str(exc.value).lower() or "error" in str(exc.value).lower()
    assert list(tl.output.parent.iterdir()) == []


@pytest.mark.skipif(
    importlib.util.find_spec("vidspec.media.drawing.cards") is None,
    reason="vidspec.media.drawing.cards missing",
)
def test_burned_captions_change_the_bottom_of_the_frame(tmp_path: Path, media: dict[str, Path]) -> None:
    scene = _scene(
        "a", media["c0"], narration=media["n1"], narration_text="Burned in words.", narration_offset=0.2
    )
    plain = stitch(_tl(tmp_path / "plain", (scene,)))
    burned = stitch(_tl(tmp_path / "burn", (scene,), captions="burn"))
    assert plain.fast_path and not burned.fast_path
    a = _frame(plain.path, 0.7, tmp_path / "a.png")
    b = _frame(burned.path, 0.7, tmp_path / "b.png")
    bottom = (0, 120, 320, 180)
    assert ImageChops.difference(a.crop(bottom), b.crop(bottom)).getbbox() is not None
    top = (0, 0, 320, 60)
    diff_top = ImageChops.difference(a.crop(top), b.crop(top)).convert("L")
    assert max(diff_top.getdata()) < 40  # only re-encoding noise up there
    # outside the cue the frames match up to encoding noise
    c = _frame(plain.path, 1.4, tmp_path / "c.png")
    d = _frame(burned.path, 1.4, tmp_path / "d.png")
    assert max(ImageChops.difference(c.crop(bottom), d.crop(bottom)).convert("L").getdata()) < 40
