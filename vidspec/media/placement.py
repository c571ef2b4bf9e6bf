"""Where every scene sits in the cut: measured lengths in, frame-exact placements out.

The one timing model of both stitch engines (ffmpeg and moviepy): scene starts and lengths on the output
frame grid, the narration actually played, caption cue times, the intervals the music ducks under, and the
audio constants both engines render with. The transition rules themselves come from ``vidspec.core.timing``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from vidspec.core.spec import Transition
from vidspec.core.timing import crossfade_overlap, transition_share
from vidspec.errors import StitchError
from vidspec.media.captions import Cue, split_cues
from vidspec.media.probe import ClipFacts, audio_length, clip_facts
from vidspec.media.timeline import Timeline

__all__ = [
    "AUDIO_RATE",
    "DUCK_RAMP",
    "TRIM_FADE",
    "Measured",
    "Progress",
    "ScenePlacement",
    "caption_cues",
    "duck_intervals",
    "measure",
    "plan_scenes",
    "plan_timeline",
    "total_duration",
    "total_frames",
]

AUDIO_RATE = 44100
TRIM_FADE = 0.15  # fade-out on a trimmed narration, so the cut doesn't click
DUCK_RAMP = 0.2

# progress(done_s, total_s): output seconds rendered so far, reported by either engine
Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Measured:
    clips: tuple[ClipFacts, ...]
    narrations: tuple[float | None, ...]


def measure(timeline: Timeline) -> Measured:
    """Probe every clip and narration (in parallel: each is a short ffmpeg process)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        clips = [pool.submit(clip_facts, s.video) for s in timeline.scenes]
        narrs = [pool.submit(audio_length, s.narration) if s.narration else None for s in timeline.scenes]
        for other in [c.path for s in timeline.scenes for c in s.sfx] + (
            [timeline.music.path] if timeline.music else []
        ):
            if not other.is_file():
                raise StitchError(f"input file not found: {other}")
        return Measured(tuple(f.result() for f in clips), tuple(f.result() if f else None for f in narrs))


@dataclass(frozen=True)
class ScenePlacement:
    """Where one scene sits in the output; all times are output seconds, on the frame grid for picture."""

    scene_id: str
    start: float  # first frame of the scene (inside the previous scene's crossfade, if any)
    length: float  # seconds of picture, held frames included
    start_frame: int
    frames: int
    clip_length: float  # measured
    hold: float  # seconds of the last frame held (fit_audio=extend), 0 otherwise
    transition: Transition  # effective transition into this scene ("cut" for scene 0 and d=0)
    transition_duration: float  # 0 for a cut
    narration: tuple[float, float] | None  # (start, end) actually played
    narration_length: float | None  # measured, before any trim
    narration_trimmed: bool

    @property
    def end(self) -> float:
        return self.start + self.length

    @property
    def share(self) -> float:
        """Seconds of this scene (and of the previous one) its incoming transition takes."""
        return transition_share(self.transition, self.transition_duration)


def plan_scenes(
    timeline: Timeline, clip_lengths: Sequence[float], narration_lengths: Sequence[float | None]
) -> list[ScenePlacement]:
    """Place every scene given the measured lengths. Pure; raises StitchError on impossible timelines."""
    scenes = timeline.scenes
    fps = timeline.fps
    half_frame = 0.5 / fps
    if not scenes:
        raise StitchError("the timeline has no scenes")
    lengths: list[float] = []
    trims: list[bool] = []
    for scene, clip_len, narr in zip(scenes, clip_lengths, narration_lengths, strict=True):
        if scene.narration_offset < 0:
            raise StitchError(f"scene {scene.scene_id!r}: narration_offset must be >= 0")
        length, trimmed = clip_len, False
        if narr is not None and scene.narration_offset + narr > clip_len + half_frame:
            need = scene.narration_offset + narr
            if scene.fit_audio == "extend":
                length = need
            elif scene.fit_audio == "trim":
                trimmed = True
            else:
                raise StitchError(
                    f"scene {scene.scene_id!r}: narration needs {need:.2f} s "
                    f"(offset {scene.narration_offset:.2f} s + {narr:.2f} s) but the clip is {clip_len:.2f} s "
                    "(fit_audio: error; use extend or trim)"
                )
        lengths.append(length)
        trims.append(trimmed)

    kinds: list[tuple[Transition, float]] = [("cut", 0.0)]
    for k in range(1, len(scenes)):
        t, d = scenes[k].transition, scenes[k].transition_duration
        if t == "cut" or d <= 0:
            kinds.append(("cut", 0.0))
            continue
        for j in (k - 1, k):
            if d >= lengths[j]:
                raise StitchError(
                    f"scene {scenes[k].scene_id!r}: {t} of {d:.2f} s is not shorter than "
                    f"scene {scenes[j].scene_id!r} ({lengths[j]:.2f} s)"
                )
        kinds.append((t, d))
    for k, scene in enumerate(scenes):
        inner = transition_share(*kinds[k]) + (
            transition_share(*kinds[k + 1]) if k + 1 < len(scenes) else 0.0
        )
        if inner > lengths[k] + 1e-9:
            raise StitchError(
                f"scene {scene.scene_id!r}: its transitions take {inner:.2f} s but it is {lengths[k]:.2f} s long"
            )

    out: list[ScenePlacement] = []
    s = 0.0  # continuous start; frames come from rounding the cumulative boundaries
    for k, scene in enumerate(scenes):
        t, d = kinds[k]
        s -= crossfade_overlap(t, d)
        start_frame = round(s * fps)
        end_frame = round((s + lengths[k]) * fps)
        frames = end_frame - start_frame
        start = start_frame / fps
        length = frames / fps
        narr = narration_lengths[k]
        interval: tuple[float, float] | None = None
        if narr is not None:
            a = start + scene.narration_offset
            b = min(a + narr, start + length) if trims[k] else a + narr
            interval = (a, b) if b > a else None
        out.append(
            ScenePlacement(
                scene_id=scene.scene_id,
                start=start,
                length=length,
                start_frame=start_frame,
                frames=frames,
                clip_length=clip_lengths[k],
                hold=max(0.0, length - clip_lengths[k]) if lengths[k] > clip_lengths[k] else 0.0,
                transition=t,
                transition_duration=d,
                narration=interval,
                narration_length=narr,
                narration_trimmed=trims[k],
            )
        )
        s += lengths[k]
    return out


def plan_timeline(timeline: Timeline) -> list[ScenePlacement]:
    """Measure the media, then place every scene (see plan_scenes)."""
    m = measure(timeline)
    return plan_scenes(timeline, [c.duration for c in m.clips], m.narrations)


def total_frames(places: Sequence[ScenePlacement]) -> int:
    return max(p.start_frame + p.frames for p in places)


def total_duration(places: Sequence[ScenePlacement], fps: int) -> float:
    return total_frames(places) / fps


def caption_cues(timeline: Timeline, places: Sequence[ScenePlacement]) -> list[Cue]:
    """Cues timed to the narration actually played; a text without narration audio spans offset -> scene end."""
    cues: list[Cue] = []
    for scene, place in zip(timeline.scenes, places, strict=True):
        if not scene.narration_text:
            continue
        if scene.narration is not None:
            if place.narration is None:
                continue  # trimmed away entirely
            a, b = place.narration
        else:
            a, b = place.start + scene.narration_offset, place.end
        cues += split_cues(scene.narration_text, a, b)
    return cues


def duck_intervals(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Narration intervals whose ramps would touch, merged: the ducking envelope is then one curve."""
    merged: list[list[float]] = []
    for a, b in sorted(intervals):
        if merged and a - DUCK_RAMP <= merged[-1][1] + DUCK_RAMP:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]
