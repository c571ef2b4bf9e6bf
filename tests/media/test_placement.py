"""Scene placement, pure: where each scene sits for cuts, crossfades and fades, the total, caption cue times,
and the intervals the music ducks under. No media, no ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidspec.errors import StitchError
from vidspec.media.placement import (
    DUCK_RAMP,
    ScenePlacement,
    caption_cues,
    duck_intervals,
    plan_scenes,
    total_duration,
    total_frames,
)
from vidspec.media.timeline import SceneCut, Timeline

FPS = 24


def _tl(*scenes: SceneCut, fps: int = FPS) -> Timeline:
    return Timeline(tuple(scenes), Path("out.mp4"), 320, 180, fps=fps)


def _scene(sid: str, **kw: object) -> SceneCut:
    return SceneCut(sid, Path(f"{sid}.mp4"), 2.0, **kw)  # type: ignore[arg-type]


def _plan(tl: Timeline, clips: list[float], narrs: list[float | None] | None = None) -> list[ScenePlacement]:
    return plan_scenes(tl, clips, narrs if narrs is not None else [None] * len(clips))


def test_cuts_butt_scenes_end_to_end() -> None:
    places = _plan(_tl(_scene("a"), _scene("b"), _scene("c")), [2.0, 3.0, 1.5])
    assert [p.start for p in places] == [0.0, 2.0, 5.0]
    assert [p.length for p in places] == [2.0, 3.0, 1.5]
    assert [p.start_frame for p in places] == [0, 48, 120]
    assert [p.frames for p in places] == [48, 72, 36]
    assert all(p.transition == "cut" and p.transition_duration == 0 and p.share == 0 for p in places)
    assert total_frames(places) == 156 and total_duration(places, FPS) == 6.5


def test_a_crossfade_starts_the_scene_d_early_and_shortens_the_total() -> None:
    tl = _tl(_scene("a"), _scene("b", transition="crossfade", transition_duration=0.5))
    a, b = _plan(tl, [2.0, 3.0])
    assert b.start == 1.5 and b.start_frame == 36 and b.end == 4.5
    assert (b.transition, b.transition_duration, b.share) == ("crossfade", 0.5, 0.5)
    assert a.end - b.start == 0.5  # the overlap
    assert total_duration([a, b], FPS) == 4.5  # 2 + 3 - 0.5


def test_a_fade_goes_through_black_without_overlap() -> None:
    tl = _tl(_scene("a"), _scene("b", transition="fade", transition_duration=1.0))
    a, b = _plan(tl, [2.0, 3.0])
    assert b.start == a.end == 2.0
    assert (b.transition, b.share) == ("fade", 0.5)  # half out of a, half into b
    assert total_duration([a, b], FPS) == 5.0


def test_scene_zero_transition_and_zero_duration_are_cuts() -> None:
    tl = _tl(
        _scene("a", transition="crossfade", transition_duration=0.5),
        _scene("b", transition="crossfade", transition_duration=0.0),
    )
    a, b = _plan(tl, [2.0, 2.0])
    assert (a.transition, a.start) == ("cut", 0.0)
    assert (b.transition, b.transition_duration, b.start) == ("cut", 0.0, 2.0)


def test_boundaries_are_rounded_on_the_cumulative_grid() -> None:
    # 1.01 s is 24.24 frames: rounding each scene alone would lose 0.24 frame per scene
    places = _plan(_tl(*(_scene(str(i)) for i in range(10))), [1.01] * 10)
    assert [p.start_frame for p in places] == [round(i * 1.01 * FPS) for i in range(10)]
    assert sum(p.frames for p in places) == total_frames(places) == round(10.1 * FPS)
    assert all(p.start == p.start_frame / FPS for p in places)


def test_extend_holds_the_last_frame_and_trim_cuts_the_narration() -> None:
    extend = _plan(_tl(_scene("a", narration=Path("n.wav"), narration_offset=0.5)), [2.0], [2.0])[0]
    assert extend.length == 2.5 and extend.hold == pytest.approx(0.5)
    assert extend.narration == (0.5, 2.5) and not extend.narration_trimmed
    trim = _plan(_tl(_scene("a", narration=Path("n.wav"), fit_audio="trim")), [2.0], [3.0])[0]
    assert trim.length == 2.0 and trim.hold == 0.0
    assert trim.narration == (0.0, 2.0) and trim.narration_trimmed and trim.narration_length == 3.0


def test_a_narration_within_half_a_frame_needs_no_hold() -> None:
    place = _plan(_tl(_scene("a", narration=Path("n.wav"))), [2.0], [2.0 + 0.4 / FPS])[0]
    assert place.length == 2.0 and place.hold == 0.0


def test_transitions_that_do_not_fit_are_refused() -> None:
    too_long = _tl(_scene("a"), _scene("b", transition="fade", transition_duration=2.5))
    with pytest.raises(StitchError, match="not shorter than scene 'a'"):
        _plan(too_long, [2.0, 3.0])
    # b takes 0.9 (fade in) + 1.2 (crossfade out) = 2.1 s of its 2 s
    crowded = _tl(
        _scene("a"),
        _scene("b", transition="fade", transition_duration=1.8),
        _scene("c", transition="crossfade", transition_duration=1.2),
    )
    with pytest.raises(StitchError, match=r"'b': its transitions take 2\.10 s but it is 2\.00 s long"):
        _plan(crowded, [3.0, 2.0, 3.0])
    with pytest.raises(StitchError, match="narration_offset"):
        _plan(_tl(_scene("a", narration_offset=-0.1)), [2.0])
    with pytest.raises(StitchError, match="no scenes"):
        plan_scenes(_tl(), [], [])


def test_caption_cues_follow_the_played_narration() -> None:
    tl = _tl(
        _scene("a", narration=Path("n.wav"), narration_text="One. Two.", narration_offset=0.25),
        _scene("b", narration_text="Silent words.", narration_offset=0.5, transition="crossfade",
               transition_duration=0.5),
        _scene("c", narration=Path("m.wav"), narration_text="Cut short.", fit_audio="trim"),
        _scene("d"),
    )  # fmt: skip
    places = _plan(tl, [2.0, 2.0, 1.0, 1.0], [1.0, None, 3.0, None])
    cues = caption_cues(tl, places)
    texts = [c.text for c in cues]
    assert texts == ["One. Two.", "Silent words.", "Cut short."]
    assert (cues[0].start, cues[0].end) == (0.25, 1.25)  # the narration's measured interval
    b, c = places[1], places[2]
    assert (cues[1].start, cues[1].end) == (b.start + 0.5, b.end)  # no audio: offset -> scene end
    assert (cues[2].start, cues[2].end) == (c.start, c.end)  # trimmed with the narration


def test_a_narration_trimmed_away_has_no_cue() -> None:
    tl = _tl(_scene("a", narration=Path("n.wav"), narration_text="Never heard.", narration_offset=2.5,
                    fit_audio="trim"))  # fmt: skip
    places = _plan(tl, [2.0], [1.0])
    assert places[0].narration is None
    assert caption_cues(tl, places) == []


def test_duck_intervals_merge_when_ramps_touch() -> None:
    gap = 2 * DUCK_RAMP
    assert duck_intervals([(5.0, 6.0), (1.0, 2.0)]) == [(1.0, 2.0), (5.0, 6.0)]
    assert duck_intervals([(1.0, 2.0), (2.0 + gap, 3.0)]) == [(1.0, 3.0)]
    assert duck_intervals([(1.0, 2.0), (2.0 + gap + 0.01, 3.0)]) == [(1.0, 2.0), (2.0 + gap + 0.01, 3.0)]
    assert duck_intervals([(1.0, 4.0), (2.0, 3.0)]) == [(1.0, 4.0)]
    assert duck_intervals([]) == []
