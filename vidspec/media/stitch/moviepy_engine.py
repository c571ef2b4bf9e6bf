"""The moviepy engine: the same cut as :mod:`vidspec.media.stitch.ffmpeg_engine`, composited in Python with moviepy 2.x.

Chosen with ``output.engine: moviepy`` (``Timeline.engine``). ``stitch()`` still measures, plans, writes the
captions and the manifest; this module only renders the planned picture and sound into one mp4, so both
engines share one timing model (:mod:`vidspec.media.placement`). The contract is the one in
:mod:`vidspec.media.stitch`'s docstring; this engine is slower (2.9-6.6x on crossfades, measured).

How the picture is built, frame-exact on the output grid:
- Each scene is a clip of exactly ``place.length`` seconds: its file decoded by moviepy at the fitted size,
  centre-cropped (cover) or bordered in black (contain), sampled at the timeline fps and clamped to its last
  frame (the ``extend`` hold), with ``vfx.FadeIn``/``vfx.FadeOut`` for fades through black.
- The timeline is cut into segments: a scene alone, or a crossfade overlap, where a
  ``CompositeVideoClip`` lays the incoming scene (``vfx.CrossFadeIn``) over the outgoing one. Only
  overlaps are composited; a whole-timeline composite would blit every frame.
- A scene's decoder (one ffmpeg process, ~80 MiB) is started when its first frame is needed and closed
  after its last one, so at most two are alive, however many scenes there are.
- Burned captions are ImageClips drawn once by ``vidspec.media.drawing.cards.caption_image``, composited only on the
  frames they cover.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import warnings
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidspec.errors import StitchError
from vidspec.media.captions import Cue
from vidspec.media.loudness import Levels, master_file, plan_levels
from vidspec.media.placement import (
    AUDIO_RATE,
    DUCK_RAMP,
    TRIM_FADE,
    Progress,
    ScenePlacement,
    duck_intervals,
    total_frames,
)
from vidspec.media.probe import ClipFacts, ProbeError, probe
from vidspec.media.timeline import LoudnessTarget, SceneCut, Timeline

__all__ = ["render"]

_LOG_LINES = 4
_AUDIO_BITRATE = "192k"
_MIX_HEADROOM = 0.125

Frame = np.ndarray
Gain = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------- progress


def _logger(progress: Progress | None, fps: int, total: float) -> Any:
    """A proglog logger that moves ``progress(done_s, total_s)`` with the frames written, and prints nothing."""
    from proglog import ProgressBarLogger

    class FrameProgress(ProgressBarLogger):
        def __init__(self) -> None:
            # logged_bars=None: proglog would otherwise keep one log line per frame in memory.
            # "chunk" is the audio pass, written before any frame: it would only make the bar jump.
            super().__init__(ignored_bars={"chunk"}, logged_bars=None, min_time_interval=0.1)
            self.done = 0.0

        def bars_callback(self, bar: str, attr: str, value: Any, old_value: Any = None) -> None:
            if progress is None or bar != "frame_index" or attr != "index":
                return
            done = min(total, max(0.0, float(value) / fps))
            if done > self.done:
                self.done = done
                progress(done, total)

        def callback(self, **kw: Any) -> None:
            pass  # moviepy's messages ("Building video ...") stay out of the build display

    return FrameProgress()


# ---------------------------------------------------------------- picture


def _fit_plan(
    fit: str, w: int, h: int, width: int, height: int
) -> tuple[tuple[int, int] | None, tuple[int, ...]]:
    """(decode size or None, crop box (x1, y1, x2, y2) for cover | margins (l, r, t, b) for contain | ())."""
    if (w, h) == (width, height) or w <= 0 or h <= 0:
        return None, ()
    if fit == "stretch":
        return (width, height), ()
    if fit == "contain":
        s = min(width / w, height / h)
        # even sizes, like the ffmpeg engine's force_divisible_by=2
        nw, nh = min(width, max(2, round(w * s)) & ~1), min(height, max(2, round(h * s)) & ~1)
        left, top = (width - nw) // 2, (height - nh) // 2
        return (nw, nh), (left, width - nw - left, top, height - nh - top)
    s = max(width / w, height / h)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    x1, y1 = (nw - width) // 2, (nh - height) // 2
    return (nw, nh), (x1, y1, x1 + width, y1 + height)


class _Source:
    """One scene's clip file, fitted to the output size, decoded only while the timeline needs it.

    moviepy's effects call ``get_frame(0)`` when they are applied, to learn the size; until ``ready``,
    that gets a black frame, so building the graph starts no decoder.
    """

    def __init__(self, scene: SceneCut, facts: ClipFacts, width: int, height: int, fps: int) -> None:
        self.scene = scene
        self.facts = facts
        self.size = (width, height)
        self.blank = np.zeros((height, width, 3), dtype=np.uint8)
        # The last frame's time: later times are held on it instead of reading past the end (moviepy warns
        # and repeats whatever it read last).
        src_fps = facts.fps or fps
        self.last = max(0.0, facts.duration - 1.0 / src_fps)
        self.ready = False
        self._file: Any = None
        self._fitted: Any = None

    def frame(self, t: float) -> Frame:
        if not self.ready:
            return self.blank
        if self._fitted is None:
            self._open()
        return self._fitted.get_frame(min(max(0.0, t), self.last))

    def _open(self, swap: bool = False) -> None:
        from moviepy import VideoFileClip, vfx

        w, h = (self.facts.height, self.facts.width) if swap else (self.facts.width, self.facts.height)
        decode, box = _fit_plan(self.scene.fit, w, h, *self.size)
        # ffmpeg scales while decoding (target_resolution): far cheaper than resizing every frame in Python.
        clip = VideoFileClip(str(self.scene.video), audio=False, target_resolution=decode)
        if not swap and clip.rotation in (90, 270):
            clip.close()  # the facts give the stored size, but ffmpeg shows the picture rotated
            self._open(swap=True)
            return
        self._file = clip
        if self.scene.fit == "contain" and box:
            left, right, top, bottom = box
            clip = clip.with_effects(
                [vfx.Margin(left=left, right=right, top=top, bottom=bottom, color=(0, 0, 0))]
            )
        elif box:
            x1, y1, x2, y2 = box
            clip = clip.with_effects([vfx.Crop(x1=x1, y1=y1, x2=x2, y2=y2)])
        self._fitted = clip

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._fitted = None


def _clip(frame_function: Callable[[float], Frame], size: tuple[int, int], duration: float, fps: int) -> Any:
    from moviepy import VideoClip

    # Not VideoClip(frame_function): its constructor decodes frame 0 to learn a size we already know.
    clip = VideoClip(duration=duration)
    clip.frame_function = frame_function
    clip.size = size
    clip.fps = fps
    return clip


@dataclass(frozen=True)
class _Segment:
    first: int  # output frame index, inclusive
    end: int  # exclusive
    offset: float  # subtracted from the timeline time before calling frame
    frame: Callable[[float], Frame]


class _Picture:
    """The timeline's frame function: picks the segment of output frame round(t * fps), never by float
    comparisons, and closes each scene's decoder once its last frame is past."""

    def __init__(self, fps: int, segments: list[_Segment], sources: list[tuple[int, _Source]]) -> None:
        self.fps = fps
        self.segments = segments
        self.firsts = [s.first for s in segments]
        self.sources = sources  # (end frame, source), ascending
        self._closed = 0

    def frame(self, t: float) -> Frame:
        i = round(t * self.fps)
        while self._closed < len(self.sources) and self.sources[self._closed][0] <= i:
            self.sources[self._closed][1].close()
            self._closed += 1
        seg = self.segments[max(0, bisect_right(self.firsts, i) - 1)]
        return seg.frame(t - seg.offset)


def _picture(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    cues: Sequence[Cue],
    n_frames: int,
    sources: list[_Source],
) -> Any:
    from moviepy import CompositeVideoClip, ImageClip, vfx

    fps, size = timeline.fps, (timeline.width, timeline.height)
    scenes: list[Any] = []
    for k, (scene, place, facts) in enumerate(zip(timeline.scenes, places, clips, strict=True)):
        src = _Source(scene, facts, *size, fps)
        sources.append(src)
        clip = _clip(src.frame, size, place.length, fps)
        effects: list[Any] = []
        if place.transition == "fade":
            effects.append(vfx.FadeIn(place.share))
        nxt = places[k + 1] if k + 1 < len(places) else None
        if nxt is not None and nxt.transition == "fade":
            effects.append(vfx.FadeOut(nxt.share))
        scenes.append(clip.with_effects(effects) if effects else clip)

    segments: list[_Segment] = []
    for k, place in enumerate(places):
        first = place.start_frame
        if k and place.transition == "crossfade":
            prev = places[k - 1]
            overlap_end = prev.start_frame + prev.frames
            if overlap_end > first:
                # The incoming scene fades in over the outgoing one, which is the background of the blend.
                blend = CompositeVideoClip(
                    [
                        scenes[k - 1].with_start(prev.start),
                        scenes[k]
                        .with_effects([vfx.CrossFadeIn((overlap_end - first) / fps)])
                        .with_start(place.start),
                    ],
                    size=size,
                    use_bgclip=True,
                )
                segments.append(_Segment(first, overlap_end, 0.0, blend.get_frame))
                first = overlap_end
        end = place.start_frame + place.frames
        nxt = places[k + 1] if k + 1 < len(places) else None
        if nxt is not None and nxt.transition == "crossfade":
            end = min(end, nxt.start_frame)
        if end > first:
            segments.append(_Segment(first, end, place.start, scenes[k].get_frame))
    order = sorted(range(len(places)), key=lambda k: places[k].start_frame + places[k].frames)
    picture = _Picture(fps, segments, [(places[k].start_frame + places[k].frames, sources[k]) for k in order])
    # iter_frames writes int(duration * fps) frames: half a frame more keeps float error from dropping one.
    duration = (n_frames + 0.5) / fps
    base = _clip(picture.frame, size, duration, fps)
    if timeline.captions != "burn" or not cues:
        return base

    from vidspec.media.drawing.cards import caption_image  # Pillow drawing only when captions are burned

    overlays: list[Any] = []
    for cue in cues:
        img = caption_image(cue.text, *size, max_lines=2)
        box = img.getbbox()
        if box is None or cue.end <= cue.start:
            continue
        x0, y0 = box[0] & ~1, box[1] & ~1  # same placement as the ffmpeg engine's overlay
        drawn = np.asarray(img.crop((x0, y0, box[2], box[3])))
        overlays.append(
            ImageClip(drawn, transparent=True)
            .with_start(cue.start)
            .with_duration(cue.end - cue.start)
            .with_position((x0, y0))
        )
    if not overlays:
        return base
    captioned = CompositeVideoClip([base, *overlays], size=size, use_bgclip=True)

    def frame(t: float) -> Frame:
        # Composite (a PIL round trip) only on the frames a caption covers.
        if any(o.start <= t < o.end for o in overlays):
            return captioned.get_frame(t)
        return picture.frame(t)

    return _clip(frame, size, duration, fps)


# ---------------------------------------------------------------- sound


def _gain(clip: Any, gain: Gain) -> Any:
    """Multiply every sample by gain(t) (t in the clip's own seconds)."""

    def apply(get_frame: Callable[[Any], np.ndarray], t: Any) -> np.ndarray:
        g = gain(np.asarray(t, dtype=float))
        return get_frame(t) * (g[:, None] if np.ndim(g) else g)

    return clip.transform(apply, keep_duration=True)


def _duck_gain(volume: float, duck: float, intervals: Sequence[tuple[float, float]]) -> Gain:
    """The ffmpeg engine's envelope: volume, lowered to volume*duck on every narration with DUCK_RAMP ramps."""
    merged = duck_intervals(intervals)
    # Merged trapezoids never overlap, so the envelope is one piecewise-linear curve.
    xs = np.array([x for a, b in merged for x in (a - DUCK_RAMP, a, b, b + DUCK_RAMP)])
    ys = np.array([y for _ in merged for y in (0.0, 1.0, 1.0, 0.0)])
    return lambda t: volume * (1 - (1 - duck) * np.interp(t, xs, ys))


def _fades_gain(fade_in: float, out_start: float | None, fade_out: float) -> Gain:
    def gain(t: np.ndarray) -> np.ndarray:
        g = np.ones_like(t)
        if fade_in > 0:
            g = np.minimum(g, np.clip(t / fade_in, 0.0, 1.0))
        if out_start is not None and fade_out > 0:
            g = np.minimum(g, np.clip((out_start + fade_out - t) / fade_out, 0.0, 1.0))
        return g

    return gain


def _sound(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    total: float,
    opened: list[Any],
    levels: Levels,
) -> Any:
    from moviepy import AudioClip, AudioFileClip, CompositeAudioClip, afx

    def load(path: Path) -> Any:
        clip = AudioFileClip(str(path), fps=AUDIO_RATE)  # decoded as stereo at AUDIO_RATE
        opened.append(clip)
        end, channels = clip.duration, clip.nchannels

        def inside(get_frame: Callable[[Any], np.ndarray], t: Any) -> np.ndarray:
            # moviepy's reader raises when a whole chunk lies outside the file; the mix wants silence there.
            tt = np.asarray(t, dtype=float)
            if not ((tt >= 0) & (tt < end)).any():
                return np.zeros((*tt.shape, channels))
            return get_frame(t)

        return clip.transform(inside, keep_duration=True)

    parts: list[Any] = []
    for k, (scene, place, facts) in enumerate(zip(timeline.scenes, places, clips, strict=True)):
        if scene.narration is not None and place.narration is not None:
            a, b = place.narration
            voice = load(scene.narration).with_duration(b - a)
            if levels.narration[k] != 1:
                voice = voice.with_effects([afx.MultiplyVolume(levels.narration[k])])
            if place.narration_trimmed:
                voice = voice.with_effects([afx.AudioFadeOut(min(TRIM_FADE, (b - a) / 2))])
            parts.append(voice.with_start(a))
        for i, cue in enumerate(scene.sfx):
            sfx = load(cue.path)
            if cue.volume * levels.sfx[k][i] != 1:
                sfx = sfx.with_effects([afx.MultiplyVolume(cue.volume * levels.sfx[k][i])])
            parts.append(sfx.with_start(place.start + cue.at))
        if scene.keep_audio and facts.has_audio:
            own = load(scene.video).with_duration(min(place.length, facts.duration))
            if levels.clip[k] != 1:
                own = own.with_effects([afx.MultiplyVolume(levels.clip[k])])
            # fades with the picture, as in the ffmpeg engine: in from the scene start, out before its end
            fade_in = place.share
            nxt = places[k + 1] if k + 1 < len(places) else None
            out_d = nxt.share if nxt is not None else 0.0
            if fade_in > 0 or out_d > 0:
                own = _gain(own, _fades_gain(fade_in, max(0.0, place.length - out_d), out_d))
            parts.append(own.with_start(place.start))
    music = timeline.music
    if music is not None:
        track = load(music.path).with_effects([afx.AudioLoop(duration=total)])
        intervals = [p.narration for p in places if p.narration is not None]
        volume = music.volume * levels.music
        if music.duck is not None and intervals:
            track = _gain(track, _duck_gain(volume, music.duck, intervals))
        elif volume != 1:
            track = track.with_effects([afx.MultiplyVolume(volume)])
        if music.fade_in > 0:
            track = track.with_effects([afx.AudioFadeIn(min(music.fade_in, total))])
        if music.fade_out > 0:
            track = track.with_effects([afx.AudioFadeOut(min(music.fade_out, total))])
        parts.append(track)

    if not parts:

        def silence(t: Any) -> np.ndarray:
            return np.zeros((*np.shape(t), 2))

        return AudioClip(silence, duration=total, fps=AUDIO_RATE)
    mix = CompositeAudioClip(parts).with_duration(total)  # summed; silence where nothing plays
    mix.fps = AUDIO_RATE
    return mix


def _mastered(mix: Any, target: LoudnessTarget, total: float, work: Path, opened: list[Any]) -> Any:
    """The mix rendered once, mastered by ffmpeg onto ``target`` (media.loudness), and read back."""
    from moviepy import AudioFileClip, afx

    raw, mastered = work / "mix.wav", work / "mastered.wav"
    # 32-bit, 18 dB down: moviepy clips samples at 0.99 and the unmastered sum may be louder than that;
    # the master gain is measured on this file, so it takes the 18 dB back.
    mix.with_effects([afx.MultiplyVolume(_MIX_HEADROOM)]).write_audiofile(
        str(raw), fps=AUDIO_RATE, nbytes=4, codec="pcm_s32le", logger=None
    )
    master_file(raw, mastered, target)
    clip = AudioFileClip(str(mastered), fps=AUDIO_RATE)
    opened.append(clip)
    return clip.with_duration(min(total, clip.duration))


# ---------------------------------------------------------------- entry point


_ERROR_LINE = re.compile(r"error|invalid|failed|unknown|no such|not found|unable|could not", re.I)


def _ffmpeg_errors(work: Path) -> list[str]:
    """The first error lines of ffmpeg's logs (moviepy runs it at info level: the cause comes first)."""
    found: list[str] = []
    for log in sorted(work.glob("*.log")):
        with contextlib.suppress(OSError):
            found += [
                ln.strip() for ln in log.read_text(errors="replace").splitlines() if _ERROR_LINE.search(ln)
            ]
    return found[:_LOG_LINES]


def load_moviepy() -> Any:
    """Import moviepy (the one place it is imported first) without letting it change the environment.

    ``import moviepy`` runs python-dotenv's ``load_dotenv()``: a .env in the working directory, or above
    moviepy's install dir (a venv inside the project), would set RUNWAYML_BASE_URL, FFMPEG_BINARY and the
    rest in a process that holds the API key. moviepy treats dotenv as optional, so it is hidden during the
    import; whatever else the import does to os.environ is undone.
    """
    if "moviepy.config" in sys.modules:  # already imported: .env files are read only once, at import
        return sys.modules["moviepy"]
    before = dict(os.environ)
    had_dotenv = "dotenv" in sys.modules
    saved = sys.modules.get("dotenv")
    sys.modules["dotenv"] = None  # type: ignore[assignment]  # `from dotenv import ...` raises ImportError
    try:
        import moviepy
    except (ImportError, OSError) as exc:  # OSError: moviepy could not run the ffmpeg it was pointed at
        raise StitchError(f"output.engine is moviepy, but moviepy 2.x cannot be loaded: {exc}") from None
    finally:
        if had_dotenv:
            sys.modules["dotenv"] = saved  # type: ignore[assignment]
        else:
            del sys.modules["dotenv"]
        for name in os.environ.keys() - before.keys():
            del os.environ[name]
        for name, value in before.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
    return moviepy


def render(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    cues: Sequence[Cue],
    total: float,
    out_tmp: Path,
    progress: Progress | None = None,
) -> None:
    """Render the planned cut into ``out_tmp`` (an mp4: H.264 + 44.1 kHz stereo AAC) with moviepy.

    Raises StitchError on any moviepy/ffmpeg failure; every clip and decoder is closed on the way out.
    """
    load_moviepy()

    n_frames = total_frames(places)
    # A private dir beside the output: moviepy's temp audio file and ffmpeg's logs go there, never the CWD.
    work = Path(tempfile.mkdtemp(prefix=".moviepy-", dir=out_tmp.parent))
    video_path = work / "video.mp4"
    sources: list[_Source] = []
    opened: list[Any] = []
    final: Any = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # moviepy's reader warnings would tear the live display
            picture = _picture(timeline, places, clips, cues, n_frames, sources)
            levels = plan_levels(timeline, [c.has_audio for c in clips])
            sound = _sound(timeline, places, clips, total, opened, levels)
            if timeline.loudness is not None:
                sound = _mastered(sound, timeline.loudness, total, work, opened)
            final = picture.with_audio(sound)
            for src in sources:
                src.ready = True
            final.write_videofile(
                str(video_path),
                fps=timeline.fps,
                codec="libx264",
                audio_codec="aac",
                audio_fps=AUDIO_RATE,
                audio_bitrate=_AUDIO_BITRATE,
                preset=timeline.preset,
                ffmpeg_params=["-crf", str(timeline.crf), "-movflags", "+faststart"],
                temp_audiofile_path=str(work),
                write_logfile=True,  # ffmpeg's chatter into work/, not onto the terminal
                logger=_logger(progress, timeline.fps, total),
            )
        # moviepy does not check ffmpeg's exit status: make sure a playable file came out.
        try:
            info = probe(video_path)
        except ProbeError:
            info = None
        if info is None or not info.has_video or not info.has_audio:
            raise OSError("ffmpeg wrote no playable file")
        video_path.replace(out_tmp)
    except (OSError, ValueError, RuntimeError, IndexError, KeyError) as exc:
        # moviepy's own message is long (it pastes the whole ffmpeg log): keep the cause only.
        errors = _ffmpeg_errors(work)
        text = str(exc).strip()
        detail = "\n".join(errors) if errors else text.splitlines()[0] if text else type(exc).__name__
        raise StitchError(f"moviepy failed while stitching {timeline.output}:\n{detail}") from exc
    finally:
        for src in sources:
            with contextlib.suppress(Exception):
                src.close()
        for clip in opened:
            with contextlib.suppress(Exception):
                clip.close()
        shutil.rmtree(work, ignore_errors=True)
    if progress is not None:
        progress(total, total)
