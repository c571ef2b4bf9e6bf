"""The planned cut as an OpenTimelineIO timeline, for editing software (``vidspec export``).

Built from the stitcher's own placement (:mod:`vidspec.media.placement`), so every length is the one the
stitched film has, frame for frame:

- ``Picture``: one clip per scene, cut where the stitched film cuts. A crossfade is an SMPTE dissolve
  centred on a cut inside the overlap; the clips keep the media the dissolve needs as handles (in OTIO a
  transition adds no time). A fade through black is a cut, with ``FadeOut``/``FadeIn`` effects (their
  length in frames in the metadata) on the clips either side. A held last frame (``fit_audio: extend``) is
  a second clip of the same file with a ``FreezeFrame`` effect.
- Audio tracks ``Narration``, ``Sound effects`` (more lanes when cues overlap), ``Clip sound`` (scenes that
  keep their clip's sound) and ``Music`` (looped as the stitcher loops it), every clip where the stitched
  film plays it. Gains are in each clip's metadata under ``vidspec``: ``gain_db`` is what the mix applied
  before mastering (loudness level for its role, times ``volume``); the music's also has its fades and the
  ducking intervals.
- Captions: one marker per cue on the picture clip where it starts (its text is the marker's name and
  its comment), in that clip's media time.

The FCPX adapter drops transitions and has no place for gains: :func:`finish_fcpxml` adds them to its
output (``<transition>`` Cross Dissolves in the spine, ``<adjust-volume>`` on every sound). OTIO is
imported here only, so the rest of vidspec never loads it.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from vidspec.media.captions import Cue
from vidspec.media.loudness import Levels
from vidspec.media.placement import ScenePlacement, duck_intervals, total_frames
from vidspec.media.timeline import Timeline

__all__ = ["Interchange", "finish_fcpxml", "to_otio"]

Locate = Callable[[Path], str]  # a media file -> the URL the timeline references it by


@dataclass(frozen=True)
class Interchange:
    """What the export needs beyond the Timeline: the placement, measured lengths and gains."""

    timeline: Timeline
    places: Sequence[ScenePlacement]
    clip_has_audio: Sequence[bool]
    sfx_lengths: Sequence[Sequence[float]]  # measured, per scene, per cue
    music_length: float | None  # measured length of the music file (one loop)
    cues: Sequence[Cue]
    levels: Levels


def _db(factor: float) -> float:
    return round(20 * math.log10(factor), 3) if factor > 0 else -math.inf


def _ref(url: str, seconds: float | None, rate: int) -> Any:
    ref = otio.schema.ExternalReference(target_url=url)
    if seconds is not None:
        ref.available_range = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(round(seconds * rate), rate)
        )
    return ref


class _Lane:
    """An audio track filled left to right: gaps up to each clip's start."""

    def __init__(self, name: str, rate: int) -> None:
        self.track = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
        self.rate = rate
        self.end = 0.0  # frames

    def fits(self, start: float) -> bool:
        return start >= self.end - 1e-6

    def add(self, clip: Any, start: float) -> None:
        """``start`` in frames (fractional: sounds are placed to the sample, not to the frame)."""
        if start > self.end + 1e-6:
            self.track.append(
                otio.schema.Gap(
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(0, self.rate),
                        otio.opentime.RationalTime(start - self.end, self.rate),
                    )
                )
            )
        self.track.append(clip)
        self.end = max(start, self.end) + clip.source_range.duration.value


class _Lanes:
    """As many tracks of one kind as overlapping sounds need: each sound on the first that is free."""

    def __init__(self, name: str, rate: int) -> None:
        self.name = name
        self.rate = rate
        self.lanes: list[_Lane] = []

    def add(self, clip: Any, start: float) -> None:
        lane = next((ln for ln in self.lanes if ln.fits(start)), None)
        if lane is None:
            lane = _Lane(self.name + (f" {len(self.lanes) + 1}" if self.lanes else ""), self.rate)
            self.lanes.append(lane)
        lane.add(clip, start)

    @property
    def tracks(self) -> list[Any]:
        return [ln.track for ln in self.lanes]


def _audio_clip(
    name: str, url: str, rate: int, media: float, start_in_media: float, frames: float, meta: dict[str, Any]
) -> Any:
    """``media``: the file's length in seconds; the rest in frames at ``rate``."""
    return otio.schema.Clip(
        name=name,
        media_reference=_ref(url, media, rate),
        source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(start_in_media, rate), otio.opentime.RationalTime(frames, rate)
        ),
        metadata={"vidspec": meta},
    )


def _cuts(places: Sequence[ScenePlacement]) -> list[int]:
    """The frame of the cut into each scene (inside a crossfade's overlap: its middle), then the last frame."""
    cuts: list[int] = []
    for k, p in enumerate(places):
        if k and p.transition == "crossfade":
            prev = places[k - 1]
            cuts.append(p.start_frame + (prev.start_frame + prev.frames - p.start_frame) // 2)
        else:
            cuts.append(p.start_frame)
    return [*cuts, total_frames(places)]


def _dissolve(places: Sequence[ScenePlacement], k: int, cut: int, fps: int) -> Any:
    """The dissolve into scene k (a crossfade), centred on ``cut``."""
    p, prev = places[k], places[k - 1]
    return otio.schema.Transition(
        name="crossfade",
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=otio.opentime.RationalTime(cut - p.start_frame, fps),
        out_offset=otio.opentime.RationalTime(prev.start_frame + prev.frames - cut, fps),
    )


def _fades(places: Sequence[ScenePlacement], k: int, fps: int) -> tuple[Any | None, Any | None]:
    """(fade in, fade out) effects of scene k for fades through black, None where there is none."""
    nxt = places[k + 1] if k + 1 < len(places) else None
    fade_in = fade_out = None
    if places[k].transition == "fade":
        fade_in = otio.schema.Effect(
            name="fade in",
            effect_name="FadeIn",
            metadata={"vidspec": {"frames": round(places[k].share * fps)}},
        )
    if nxt is not None and nxt.transition == "fade":
        fade_out = otio.schema.Effect(
            name="fade out", effect_name="FadeOut", metadata={"vidspec": {"frames": round(nxt.share * fps)}}
        )
    return fade_in, fade_out


def _picture(ix: Interchange, locate: Locate) -> Any:
    tl, places = ix.timeline, ix.places
    fps = tl.fps
    track = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    cuts = _cuts(places)
    clips_by_scene: list[Any] = []
    for k, (scene, p) in enumerate(zip(tl.scenes, places, strict=True)):
        a, b = cuts[k], cuts[k + 1]
        media_frames = min(p.frames, round(p.clip_length * fps))
        url = locate(scene.video)
        if k and p.transition == "crossfade":
            track.append(_dissolve(places, k, a, fps))
        src_in = a - p.start_frame
        shown = max(0, min(b, p.start_frame + media_frames) - a)  # frames of real media on screen
        held = (b - a) - shown
        meta: dict[str, Any] = {"scene": scene.scene_id, "fit": scene.fit}
        if scene.keys.get("video"):
            meta["key"] = scene.keys["video"]
        clip = otio.schema.Clip(
            name=f"{scene.scene_id} video",
            media_reference=_ref(url, p.clip_length, fps),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(src_in, fps), otio.opentime.RationalTime(shown, fps)
            ),
            metadata={"vidspec": meta},
        )
        pieces = [clip] if shown else []
        if held > 0:
            pieces.append(
                otio.schema.Clip(
                    name=f"{scene.scene_id} hold",
                    media_reference=_ref(url, p.clip_length, fps),
                    source_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(max(0, media_frames - 1), fps),
                        otio.opentime.RationalTime(held, fps),
                    ),
                    effects=[otio.schema.FreezeFrame()],
                    metadata={"vidspec": {**meta, "hold_frames": held}},
                )
            )
        fade_in, fade_out = _fades(places, k, fps)
        if fade_in is not None and pieces:
            pieces[0].effects.append(fade_in)
        if fade_out is not None and pieces:
            pieces[-1].effects.append(fade_out)
        for piece in pieces:
            track.append(piece)
        clips_by_scene.append((a, pieces))
    _markers(ix, clips_by_scene)
    return track


def _markers(ix: Interchange, clips_by_scene: list[tuple[int, list[Any]]]) -> None:
    fps = ix.timeline.fps
    for cue in ix.cues:
        frame = cue.start * fps
        # the last scene whose first frame on screen is at or before the cue's start
        idx = max((i for i, (a, _) in enumerate(clips_by_scene) if a <= frame + 1e-6), default=0)
        a, pieces = clips_by_scene[idx]
        # the piece the cue starts in (the held frame after the media, if it starts there)
        offset = frame - a
        piece = pieces[0]
        for candidate in pieces:
            length = candidate.source_range.duration.value
            piece = candidate
            if offset < length:
                break
            offset -= length
        start = piece.source_range.start_time.value + offset
        piece.markers.append(
            otio.schema.Marker(
                name=cue.text,
                marked_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(start, fps),
                    otio.opentime.RationalTime((cue.end - cue.start) * fps, fps),
                ),
                color=otio.schema.MarkerColor.YELLOW,
                metadata={"vidspec": {"caption": cue.text, "start": cue.start, "end": cue.end}},
                comment=cue.text,
            )
        )


def _clip_sound(ix: Interchange, locate: Locate) -> Any:
    """The clips' own sound, cut with the picture (same cuts, a dissolve where it crossfades), silent over
    held frames, as the film plays it."""
    tl, places, fps = ix.timeline, ix.places, ix.timeline.fps
    lane = _Lane("Clip sound", fps)
    cuts = _cuts(places)
    for k, (scene, p) in enumerate(zip(tl.scenes, places, strict=True)):
        if not (scene.keep_audio and ix.clip_has_audio[k]):
            continue
        a = cuts[k]
        stop = min(cuts[k + 1], p.start_frame + min(p.frames, round(p.clip_length * fps)))
        if stop <= a:
            continue
        prev_ends_here = lane.end == a and len(lane.track) > 0
        if k and p.transition == "crossfade":
            if prev_ends_here:
                lane.track.append(_dissolve(places, k, a, fps))
            elif lane.fits(p.start_frame):
                a = p.start_frame  # nothing to dissolve from: it starts (fading in) with its picture
        clip = _audio_clip(
            f"{scene.scene_id} clip sound",
            locate(scene.video),
            fps,
            p.clip_length,
            a - p.start_frame,
            stop - a,
            {"scene": scene.scene_id, "gain_db": _db(ix.levels.clip[k])},
        )
        clip.effects.extend(e for e in _fades(places, k, fps) if e is not None)
        lane.add(clip, a)
    return lane.track


def _sound(ix: Interchange, locate: Locate) -> list[Any]:
    tl, places, levels = ix.timeline, ix.places, ix.levels
    fps = tl.fps
    end = total_frames(places)
    narration = _Lanes("Narration", fps)
    sfx = _Lanes("Sound effects", fps)
    for k, (scene, p) in enumerate(zip(tl.scenes, places, strict=True)):
        if scene.narration is not None and p.narration is not None:
            a, b = p.narration
            frames = min(b * fps, end) - a * fps
            meta = {
                "scene": scene.scene_id,
                "gain_db": _db(levels.narration[k]),
                "trimmed": p.narration_trimmed,
            }
            if scene.narration_text:
                meta["text"] = scene.narration_text
            narration.add(
                _audio_clip(
                    f"{scene.scene_id} narration",
                    locate(scene.narration),
                    fps,
                    p.narration_length or (b - a),
                    0,
                    frames,
                    meta,
                ),
                a * fps,
            )
        for i, cue in enumerate(scene.sfx):
            start = (p.start + cue.at) * fps
            if start >= end:
                continue
            length = ix.sfx_lengths[k][i]
            frames = min(start + length * fps, end) - start
            clip = _audio_clip(
                f"{scene.scene_id} sfx" + (f" {i + 1}" if len(scene.sfx) > 1 else ""),
                locate(cue.path),
                fps,
                length,
                0,
                frames,
                {
                    "scene": scene.scene_id,
                    "gain_db": _db(cue.volume * levels.sfx[k][i]),
                    "volume": cue.volume,
                },
            )
            sfx.add(clip, start)
    tracks = [*narration.tracks, *sfx.tracks, _clip_sound(ix, locate)]
    music = tl.music
    if music is not None and ix.music_length:
        lane = _Lane("Music", fps)
        intervals = [q.narration for q in places if q.narration is not None]
        meta = {
            "gain_db": _db(music.volume * levels.music),
            "volume": music.volume,
            "fade_in": music.fade_in,
            "fade_out": music.fade_out,
            "duck_gain_db": None if music.duck is None else _db(music.duck),
            "duck_intervals": [list(iv) for iv in duck_intervals(intervals)]
            if music.duck is not None
            else [],
        }
        loop = ix.music_length * fps
        start, n = 0.0, 0
        while start < end - 1e-6:
            n += 1
            frames = min(loop, end - start)
            lane.add(
                _audio_clip(f"music {n}", locate(music.path), fps, ix.music_length, 0, frames, meta), start
            )
            start += frames
        tracks.append(lane.track)
    return [t for t in tracks if len(t)]


def to_otio(ix: Interchange, name: str, locate: Locate) -> Any:
    """The cut as an ``otio.schema.Timeline`` at the film's frame rate."""
    tl = otio.schema.Timeline(name=name)
    tl.global_start_time = otio.opentime.RationalTime(0, ix.timeline.fps)
    tl.tracks.append(_picture(ix, locate))
    for track in _sound(ix, locate):
        tl.tracks.append(track)
    tl.metadata["vidspec"] = {
        "fps": ix.timeline.fps,
        "width": ix.timeline.width,
        "height": ix.timeline.height,
        "frames": total_frames(ix.places),
        "loudness": None
        if ix.timeline.loudness is None
        else {"integrated": ix.timeline.loudness.integrated, "true_peak": ix.timeline.loudness.true_peak},
    }
    return tl


# Final Cut Pro's built-in Cross Dissolve
_DISSOLVE_UID = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"


def _seconds(t: Any) -> str:
    """An FCPXML time: a rational number of seconds."""
    value = Fraction(t.value).limit_denominator(1_000_000) / Fraction(t.rate).limit_denominator(1000)
    return f"{value.numerator}s" if value.denominator == 1 else f"{value.numerator}/{value.denominator}s"


def finish_fcpxml(text: str, timeline: Any) -> str:
    """The FCPX adapter's XML with the dissolves and gains of ``timeline`` (the OTIO it was written from)."""
    root = ET.fromstring(text)
    resources = root.find("resources")
    spine = root.find(".//sequence/spine")
    if resources is None or spine is None:
        return text
    picture = timeline.video_tracks()[0]
    dissolves = [t for t in picture if isinstance(t, otio.schema.Transition)]
    if dissolves:
        ids = [int(e.get("id", "r0")[1:]) for e in resources if e.get("id", "").startswith("r")]
        effect_id = f"r{max(ids, default=0) + 1}"
        ET.SubElement(resources, "effect", {"id": effect_id, "name": "Cross Dissolve", "uid": _DISSOLVE_UID})
        for dissolve in dissolves:
            span = picture.range_of_child(dissolve)
            outgoing = picture[picture.index(dissolve) - 1].name
            element = ET.Element(
                "transition",
                {
                    "name": "Cross Dissolve",
                    "offset": _seconds(span.start_time),
                    "duration": _seconds(span.duration),
                },
            )
            ET.SubElement(element, "filter-video", {"ref": effect_id, "name": "Cross Dissolve"})
            children = list(spine)
            at = next((i for i, e in enumerate(children) if e.get("name") == outgoing), None)
            if at is not None:
                spine.insert(at + 1, element)
    gains = {
        clip.name: clip.metadata["vidspec"]["gain_db"]
        for track in timeline.audio_tracks()
        for clip in track.find_clips()
        if isinstance(clip.metadata.get("vidspec", {}).get("gain_db"), float)
    }
    for element in spine.iter("clip"):
        gain = gains.get(element.get("name", ""))
        if gain is not None and math.isfinite(gain) and element.get("lane"):
            # adjust-volume comes before the clip's story elements (FCPXML DTD order)
            element.insert(0, ET.Element("adjust-volume", {"amount": f"{gain:.2f}dB"}))
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n' + body + "\n"
