"""Segment-wise stitching: a changed scene re-encodes only its segments, and the joined film has no glitch at any
segment boundary (tiny media: 320x180, 24 fps, ultrafast)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import ff
from vidspec.errors import StitchError
from vidspec.media.placement import caption_cues, measure, plan_scenes, total_duration
from vidspec.media.probe import ffmpeg_exe
from vidspec.media.stitch import ffmpeg_engine, stitch
from vidspec.media.stitch.segments import plan_segments
from vidspec.media.timeline import SceneCut, Timeline

pytestmark = pytest.mark.slow  # real media through ffmpeg

FPS = 24


def _film(tmp_path: Path, media: dict[str, Path], **kw: object) -> Timeline:
    """a -crossfade-> b -crossfade-> c -fade-> d -cut-> e, with narration and a held frame in b."""
    scenes = (
        SceneCut("a", media["c0"], 1.5, narration=media["n1"], narration_text="First words here."),
        SceneCut(
            "b",
            media["c1"],
            1.5,
            transition="crossfade",
            transition_duration=0.5,
            narration=media["nlong"],
            narration_text="A long line.",
            narration_offset=0.1,
        ),  # fmt: skip
        SceneCut("c", media["c2"], 1.5, transition="crossfade", transition_duration=0.5),
        SceneCut("d", media["sq"], 1.5, transition="fade", transition_duration=0.6, fit="contain"),
        SceneCut("e", media["c0"], 1.5),
    )
    return Timeline(
        scenes, tmp_path / "build" / "film.mp4", 320, 180, fps=FPS, preset="ultrafast",
        segments=tmp_path / "cache" / "segments", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _objects(tl: Timeline) -> dict[str, int]:
    assert tl.segments is not None
    return {p.name: p.stat().st_mtime_ns for p in (tl.segments / "objects").rglob("*.mp4")}


def test_a_changed_scene_reencodes_only_its_segments(tmp_path: Path, media: dict[str, Path]) -> None:
    tl = _film(tmp_path, media)
    first = stitch(tl)
    assert first.method == "segments" and first.segments_reused == 0
    assert first.segments_encoded == (
        "scene a", "crossfade a>b", "scene b", "crossfade b>c", "scene c", "scene d", "scene e",
    )  # fmt: skip
    stored = _objects(tl)
    assert len(stored) == 7

    again = stitch(tl, force=True)  # nothing changed: every segment comes from the cache, only the mux runs
    assert again.segments_encoded == () and again.segments_reused == 7
    assert _objects(tl) == stored

    # c's clip replaced: only c's own segment and the crossfade into it; the fade out of c depends on d's
    # transition, not on d's clip, and d, e are keyed relative to their own start, which did not move
    clip = tmp_path / "other.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=1.5", "-vf", "negate",
       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip))  # fmt: skip
    scenes = list(tl.scenes)
    scenes[2] = replace(scenes[2], video=clip)
    changed = stitch(replace(tl, scenes=tuple(scenes)))
    assert changed.segments_encoded == ("crossfade b>c", "scene c") and changed.segments_reused == 5
    assert {k: v for k, v in _objects(tl).items() if k in stored} == stored  # the others untouched

    # a longer b (another clip length) moves every later scene: still only b's segments are new
    long_b = tmp_path / "long_b.mp4"
    ff("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=2.5", "-c:v", "libx264",
       "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(long_b))  # fmt: skip
    scenes[1] = replace(scenes[1], video=long_b)
    moved = stitch(replace(tl, scenes=tuple(scenes)))
    assert moved.segments_encoded == ("crossfade a>b", "scene b", "crossfade b>c")

    # d's transition changed (fade -> cut): c's fade-out and d's fade-in, nothing else
    scenes[3] = replace(scenes[3], transition="cut")
    cut = stitch(replace(tl, scenes=tuple(scenes)))
    assert cut.segments_encoded == ("scene c", "scene d")
    assert cut.encodes() == {
        "method": "segments",
        "segments_encoded": ["scene c", "scene d"],
        "segments_reused": 5,
    }


def test_settings_are_part_of_every_key(tmp_path: Path, media: dict[str, Path]) -> None:
    tl = _film(tmp_path, media)
    m = measure(tl)
    places = plan_scenes(tl, [c.duration for c in m.clips], m.narrations)
    idents = ["id-" + s.scene_id for s in tl.scenes]
    base = {s.key for s in plan_segments(tl, places, m.clips, idents, caption_cues(tl, places))}
    assert len(base) == 7
    # d's 200x200 clip is fitted (a's is already 320x180: no fit filter, so its fit changes nothing)
    d_cover = replace(tl, scenes=(*tl.scenes[:3], replace(tl.scenes[3], fit="cover"), tl.scenes[4]))
    a_stretch = replace(tl, scenes=(replace(tl.scenes[0], fit="stretch"), *tl.scenes[1:]))
    assert {s.key for s in plan_segments(a_stretch, places, m.clips, idents, [])} == {
        s.key for s in plan_segments(tl, places, m.clips, idents, [])
    }
    for other in (replace(tl, preset="veryfast"), replace(tl, crf=30), d_cover):
        keys = {s.key for s in plan_segments(other, places, m.clips, idents, caption_cues(other, places))}
        assert keys != base
        if other.preset != tl.preset or other.crf != tl.crf:
            assert not keys & base  # the encoder settings are in every key
    burn = replace(tl, captions="burn")
    keys = [s.key for s in plan_segments(burn, places, m.clips, idents, caption_cues(burn, places))]
    plain = [s.key for s in plan_segments(tl, places, m.clips, idents, caption_cues(tl, places))]
    # cues sit over a, b and the crossfades around them (b's last one up to b's last frame, the first of c's
    # body); d and e show no caption and keep their keys
    assert [k == p for k, p in zip(keys, plain, strict=True)] == [False] * 5 + [True, True]


def _decode(path: Path) -> tuple[str, list[tuple[int, float, bool]]]:
    """(decode errors, [(frame n, pts seconds, is key)]) over the whole video stream."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "info", "-err_detect", "explode", "-i", str(path),
         "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    frames = [
        (int(m[1]), float(m[2]), m[3] == "1")
        for m in re.finditer(r"n:\s*(\d+) pts:\s*\d+ pts_time:([\d.]+).*?iskey:(\d)", proc.stderr)
    ]
    errors = "\n".join(
        ln for ln in proc.stderr.splitlines() if re.search(r"error|invalid|corrupt|missing", ln, re.I)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return errors, frames


@pytest.mark.parametrize("captions", ["sidecar", "burn"])
def test_joins_are_glitch_free(tmp_path: Path, media: dict[str, Path], captions: str) -> None:
    tl = _film(tmp_path, media, captions=captions)
    res = stitch(tl)
    m = measure(tl)
    places = plan_scenes(tl, [c.duration for c in m.clips], m.narrations)
    total = round(total_duration(places, FPS) * FPS)
    segs = plan_segments(tl, places, m.clips, ["x"] * 5, caption_cues(tl, places))
    assert [s.start_frame for s in segs] == [0, *[s.start_frame + s.frames for s in segs[:-1]]]  # contiguous
    assert sum(s.frames for s in segs) == total

    errors, frames = _decode(res.path)
    assert errors == ""
    assert len(frames) == total  # no frame lost or doubled at a join
    assert [f[0] for f in frames] == list(range(total))
    steps = {round((b[1] - a[1]) * FPS, 3) for a, b in zip(frames, frames[1:])}
    assert steps == {1.0}  # evenly spaced: no timestamp jump at any boundary
    keys = {f[0] for f in frames if f[2]}
    assert {s.start_frame for s in segs} <= keys  # every segment starts on a keyframe

    # the same cut drawn by the single filter graph: the segments show the same pictures
    single = tmp_path / "single" / "film.mp4"
    single.parent.mkdir()
    ffmpeg_engine.render(tl, places, m.clips, caption_cues(tl, places), total / FPS, single)
    psnr = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(res.path), "-i", str(single),
         "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"],
        capture_output=True, text=True,
    ).stderr  # fmt: skip
    worst = re.search(r"PSNR .*?min:([\d.inf]+)", psnr)
    assert worst is not None, psnr[-500:]
    assert float(worst.group(1)) > 30, psnr[-500:]  # per frame, over the whole film (boundaries included)


def test_a_damaged_segment_is_encoded_again(tmp_path: Path, media: dict[str, Path]) -> None:
    tl = _film(tmp_path, media)
    stitch(tl)
    assert tl.segments is not None
    victim = sorted((tl.segments / "objects").rglob("*.mp4"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    again = stitch(tl, force=True)
    assert len(again.segments_encoded) == 1 and again.segments_reused == 6
    errors, frames = _decode(again.path)
    assert errors == "" and len(frames) == round(again.duration * FPS)


def test_without_a_segment_cache_nothing_is_left_behind(
    tmp_path: Path, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import vidspec.media.stitch as stitching

    tl = replace(_film(tmp_path, media), segments=None)
    assert stitch(tl).method == "single-graph"  # a short film, built once: one filter graph
    monkeypatch.setattr(stitching, "SINGLE_GRAPH_MAX_SCENES", 4)
    res = stitch(tl, force=True)  # a longer one: segments, in a private temp dir
    assert res.method == "segments" and len(res.segments_encoded) == 7
    assert sorted(p.name for p in tl.output.parent.iterdir()) == [
        "film.mp4", "film.mp4.manifest.json", "film.srt", "film.vtt",
    ]  # fmt: skip


def _md5s(args: list[str]) -> list[str]:
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error", *args, "-f", "framemd5", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [ln.rsplit(",", 1)[1].strip() for ln in out.splitlines() if not ln.startswith("#")]


@pytest.mark.parametrize("rate", [24, 30])
def test_a_crossfade_encoded_alone_seeks_to_the_same_frames(tmp_path: Path, rate: int) -> None:
    # b's scene segment is cached; only the crossfade b>c is encoded, from b's clip opened by a seek near its
    # end. It must show exactly the frames of b that a decode of the whole clip gives.
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "20"]
    clips = {}
    for name, src in (("a", "testsrc2"), ("b", "testsrc"), ("c", "smptebars"), ("c2", "rgbtestsrc")):
        clips[name] = tmp_path / f"{name}.mp4"
        r = rate if name == "b" else 24
        ff("-f", "lavfi", "-i", f"{src}=size=320x180:rate={r}:duration=3.2", *x264, str(clips[name]))
    scenes = tuple(
        SceneCut(s, clips[s], 3.2, transition="crossfade" if s != "a" else "cut", transition_duration=0.5)
        for s in "abc"
    )
    tl = Timeline(scenes, tmp_path / "out" / "film.mp4", 320, 180, fps=FPS, preset="ultrafast",
                  segments=tmp_path / "s1")  # fmt: skip
    stitch(tl)
    changed = replace(tl, scenes=(*scenes[:2], replace(scenes[2], video=clips["c2"])))
    alone = stitch(changed)
    assert alone.segments_encoded == ("crossfade b>c", "scene c")
    errors, frames = _decode(alone.path)
    assert errors == "" and len(frames) == round(alone.duration * FPS)

    # the filters of b's tail, opened by a seek, against the whole clip: the same pictures, bit for bit
    m = measure(changed)
    places = plan_scenes(changed, [c.duration for c in m.clips], m.narrations)
    b = places[1]
    window = (b.frames - 12, b.frames)
    whole = ffmpeg_engine.scene_steps(changed, places, 1, m.clips[1], window)
    seeked = ffmpeg_engine.scene_steps(changed, places, 1, m.clips[1], window, seek=True)
    ref = _md5s(["-i", str(clips["b"]), "-vf", ",".join(whole)])
    got = _md5s(
        ["-copyts", "-ss", f"{(window[0] - FPS) / FPS:.6f}", "-i", str(clips["b"]), "-vf", ",".join(seeked)]
    )
    assert len(ref) == 12 and got == ref


def test_a_failing_segment_job_is_a_stitch_error_and_leaves_nothing(
    tmp_path: Path, media: dict[str, Path]
) -> None:
    tl = replace(_film(tmp_path, media), preset="nosuch")
    with pytest.raises(StitchError, match="ffmpeg failed"):
        stitch(tl)
    assert list(tl.output.parent.iterdir()) == []
    assert tl.segments is not None and not list((tl.segments / "objects").rglob("*.mp4"))
    assert not [p for p in (tl.segments / "tmp").iterdir()]  # no half-written segment
