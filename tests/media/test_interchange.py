"""The cut as an OTIO timeline, pure: built from a placement (no media), every track as long as the film,
dissolves centred in the overlap with the handles they need, fades, held frames, sfx lanes and clip sound."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest

from vidspec.media.captions import Cue
from vidspec.media.interchange import Interchange, to_otio
from vidspec.media.loudness import unity
from vidspec.media.placement import caption_cues, plan_scenes, total_frames
from vidspec.media.timeline import Music, SceneCut, SfxCue, Timeline

FPS = 24


def _ix() -> Interchange:
    scenes = (
        SceneCut("a", Path("/m/a.mp4"), 2.0, narration=Path("/m/na.wav"), narration_text="Hello there."),
        SceneCut(
            "b", Path("/m/b.mp4"), 2.0, transition="crossfade", transition_duration=0.5,
            narration=Path("/m/nb.wav"), narration_text="A long one.", narration_offset=0.2,
            sfx=(SfxCue(Path("/m/s1.wav"), 0.1, 0.5), SfxCue(Path("/m/s2.wav"), 0.3)),
        ),  # b holds its last frame: 0.2 + 2.3 > 2.0
        SceneCut("c", Path("/m/c.mp4"), 2.0, transition="fade", transition_duration=0.6, keep_audio=True),
    )  # fmt: skip
    tl = Timeline(
        scenes, Path("/out/film.mp4"), 320, 180, fps=FPS, music=Music(Path("/m/music.wav"), key="k")
    )
    places = plan_scenes(tl, [2.0, 2.0, 2.0], [1.0, 2.3, None])
    return Interchange(
        tl, places, [False, False, True], ((), (1.0, 1.0), ()), 2.5, caption_cues(tl, places), unity(tl)
    )


def _clips(track: otio.schema.Track) -> list[otio.schema.Clip]:
    return [c for c in track if isinstance(c, otio.schema.Clip)]


def test_every_track_is_as_long_as_the_film_or_shorter() -> None:
    ix = _ix()
    frames = total_frames(ix.places)
    tl = to_otio(ix, "film", lambda p: p.as_uri())
    assert tl.duration().to_frames() == frames
    picture = tl.video_tracks()[0]
    assert picture.duration().to_frames() == frames
    assert all(t.duration().to_frames() <= frames for t in tl.audio_tracks())
    assert [t.name for t in tl.audio_tracks()] == [
        "Narration",
        "Sound effects",
        "Sound effects 2",
        "Clip sound",
        "Music",
    ]
    music = tl.audio_tracks()[-1]
    assert music.duration().to_frames() == frames and len(_clips(music)) == 3  # 2.5 s looped over ~5.8 s


def test_a_crossfade_is_a_dissolve_centred_in_the_overlap() -> None:
    ix = _ix()
    a, b = ix.places[0], ix.places[1]
    picture = to_otio(ix, "film", lambda p: p.as_uri()).video_tracks()[0]
    dissolve = next(t for t in picture if isinstance(t, otio.schema.Transition))
    overlap = a.start_frame + a.frames - b.start_frame  # 12 frames
    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert (dissolve.in_offset + dissolve.out_offset).to_frames() == overlap
    clip_a, clip_b = _clips(picture)[:2]
    cut = picture.range_of_child(clip_b).start_time.to_frames()
    assert cut == b.start_frame + overlap // 2
    # b's in point leaves the frames the dissolve shows before the cut; a's media runs past its out point
    assert clip_b.source_range.start_time.to_frames() == dissolve.in_offset.to_frames()
    a_out = clip_a.source_range.end_time_exclusive().to_frames()
    assert a_out + dissolve.out_offset.to_frames() == a.frames


def test_a_held_frame_is_a_freeze_and_fades_are_effects() -> None:
    ix = _ix()
    picture = to_otio(ix, "film", lambda p: p.as_uri()).video_tracks()[0]
    names = [c.name for c in _clips(picture)]
    assert names == ["a video", "b video", "b hold", "c video"]
    hold = _clips(picture)[2]
    assert isinstance(hold.effects[0], otio.schema.FreezeFrame)
    assert hold.source_range.start_time.to_frames() == 2 * FPS - 1  # the clip's last frame
    b = ix.places[1]
    assert hold.duration().to_frames() == round(b.hold * FPS)
    assert [e.effect_name for e in hold.effects] == ["FreezeFrame", "FadeOut"]  # b fades out through black
    assert [e.effect_name for e in _clips(picture)[3].effects] == ["FadeIn"]


def test_sounds_sit_where_the_film_plays_them() -> None:
    ix = _ix()
    tl = to_otio(ix, "film", lambda p: p.as_uri())
    narration = tl.audio_tracks()[0]
    for clip, place in zip(_clips(narration), ix.places[:2], strict=True):
        assert place.narration is not None
        assert narration.range_of_child(clip).start_time.to_seconds() == pytest.approx(place.narration[0])
    s1, s2 = (_clips(t)[0] for t in tl.audio_tracks()[1:3])  # overlapping cues: one lane each
    assert tl.audio_tracks()[1].range_of_child(s1).start_time.to_seconds() == pytest.approx(
        ix.places[1].start + 0.1
    )
    assert s1.metadata["vidspec"]["gain_db"] == pytest.approx(-6.021, abs=1e-3)  # volume 0.5
    own = _clips(tl.audio_tracks()[3])
    assert [c.name for c in own] == ["c clip sound"]
    assert tl.audio_tracks()[3].range_of_child(own[0]).start_time.to_frames() == ix.places[2].start_frame


def test_captions_are_markers_and_everything_survives_otio_json() -> None:
    ix = _ix()
    tl = to_otio(ix, "film", lambda p: p.as_uri())
    back = otio.adapters.read_from_string(otio.adapters.write_to_string(tl, "otio_json"), "otio_json")
    markers = [m for c in back.find_clips() for m in c.markers]
    assert [m.name for m in markers] == [c.text for c in ix.cues]
    assert all(isinstance(c, Cue) for c in ix.cues)
    assert back.duration() == tl.duration()
    assert back.tracks[0][0].media_reference.target_url == "file:///m/a.mp4"


def test_clip_sound_is_cut_with_the_picture_and_dissolves_with_it() -> None:
    scenes = (
        SceneCut("a", Path("/m/a.mp4"), 2.0),
        SceneCut("b", Path("/m/b.mp4"), 2.0, transition="crossfade", transition_duration=0.75),
        SceneCut("c", Path("/m/c.mp4"), 2.0, transition="crossfade", transition_duration=0.5),
    )
    tl = Timeline(scenes, Path("/out/film.mp4"), 320, 180, fps=FPS)
    places = plan_scenes(tl, [2.0, 2.0, 2.0], [None, None, None])
    ix = Interchange(tl, places, [False, True, True], ((), (), ()), None, [], unity(tl))
    otl = to_otio(ix, "film", lambda p: p.as_uri())
    picture, sound = otl.video_tracks()[0], otl.audio_tracks()[0]
    assert sound.name == "Clip sound"
    assert sound.duration() == picture.duration() == otio.opentime.RationalTime(total_frames(places), FPS)
    kinds = [type(c).__name__ for c in sound]
    assert kinds == ["Gap", "Clip", "Transition", "Clip"]  # b starts with its picture (a has no sound)
    b_clip = _clips(sound)[0]
    assert sound.range_of_child(b_clip).start_time.to_frames() == places[1].start_frame
    c_pic, c_snd = _clips(picture)[2], _clips(sound)[1]
    assert picture.range_of_child(c_pic) == sound.range_of_child(c_snd)
    assert c_pic.source_range == c_snd.source_range
