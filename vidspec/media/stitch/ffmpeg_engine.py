"""The stitcher: cached clips + narration + sfx + music -> the final cut, in ONE ffmpeg process.

The whole assembly is one ffmpeg filter graph built here and run with the bundled ffmpeg; moviepy is not
used (it measured 2.9-6.6x slower on crossfades and holds an ~80 MiB decoder per clip), unless
``Timeline.engine`` is ``moviepy``: then ``vidspec.stitch_moviepy`` renders the same planned cut.

Contract (what the output contains):

Picture
- Every clip is fitted into the Timeline's ``width x height`` by ``fit``: ``cover`` scales to cover and
  centre-crops, ``contain`` scales to fit and pads with black, ``stretch`` scales to the exact size. Its
  frame rate is normalised to ``Timeline.fps`` (fps filter), SAR 1, yuv420p.
- A scene's length L_k is the clip's MEASURED duration (the spec's ``duration`` is ignored). Narration
  starts at scene start + ``narration_offset``. If offset + measured narration length exceeds L_k by more
  than half a frame: ``extend`` holds the last frame until the narration ends (L_k grows); ``trim`` cuts
  the narration at the scene end with a 0.15 s fade-out; ``error`` raises StitchError naming the scene and
  both lengths.
- Transition into scene k (k >= 1; scene 0's transition is ignored): ``cut``; ``crossfade`` = xfade over
  d = transition_duration, scene k starting d before scene k-1 ends (the total shrinks by d); ``fade`` =
  through black, scene k-1 fading out over its last d/2 and scene k fading in over its first d/2, no
  overlap. d must be shorter than both neighbours, and a scene's incoming plus outgoing share (d for a
  crossfade, d/2 for a fade) must fit inside it; StitchError otherwise. d = 0 is a cut.
- Total = sum(L_k) - sum(crossfade d). Scene boundaries are rounded to the output frame grid on the
  cumulative timeline, so the total is exact to within half a frame however many scenes there are.

Sound (44.1 kHz stereo AAC, always present)
- Narration k is delayed (sample-exact) to its start. sfx cues play at scene start + ``at`` with their
  volume. The clip's own audio plays under its scene when ``keep_audio`` and the clip has an audio
  stream (fading with the picture on crossfades and fades). Music runs from 0 to the end, looped or
  trimmed, at ``volume``, with ``fade_in``/``fade_out``, and, when ``duck`` is set, lowered to
  volume*duck during every narration interval with 0.2 s linear ramps (an exact envelope from the known
  intervals, not a compressor). Everything is summed (amix normalize=0) and padded/trimmed to exactly the
  total, so the audio never drifts and is as long as the picture. No source at all: a silent track.

Captions
- From each scene's ``narration_text``, timed to the MEASURED narration (trimmed with it), split by
  :func:`vidspec.captions.split_cues`. A text without narration audio spans offset -> scene end.
  ``<output stem>.srt`` and ``.vtt`` are ALWAYS written beside the output (empty but valid with no cues).
  ``captions="burn"`` also overlays each cue (drawn once by ``vidspec.media.drawing.cards.caption_image``).

Build behaviour
- ``<output>.manifest.json`` holds a canonical JSON of every input's identity and every setting (the
  Timeline without paths or scene ids, plus ENGINE_VERSION, the engine and the ffmpeg build). A file is identified by
  its cache key when ``SceneCut.keys`` has one for its role (``video``; ``dub`` or ``narration``; ``sfx``
  for a single cue or ``sfx.<i>``) or ``Music.key``, otherwise by its sha256. When the output (with the
  size and mtime the manifest recorded), both caption files and a matching manifest exist, ``stitch``
  does nothing and returns ``skipped=True`` (``force=True`` re-encodes anyway).
- The mp4 is encoded into a hidden temp dir beside the output, then os.replace'd onto it; the old manifest
  is removed first and the new one written last, so a killed run never leaves a broken file at the output
  path nor a manifest vouching for the wrong file.
- Fast path (ffmpeg engine only): when every clip is already h264 yuv420p at the output size and fps with SAR 1, with the same
  codec headers (SPS/PPS) and timebase, every transition is a cut, no frame is held and captions are not
  burned, the picture is joined with the concat demuxer and stream-copied; only the audio is encoded.
- ffmpeg failures raise StitchError carrying the last lines of ffmpeg's stderr.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vidspec.core.hashing import canonical_json, file_sha256, sha256_hex
from vidspec.core.timing import transition_share
from vidspec.errors import StitchError
from vidspec.media.captions import Cue, split_cues, to_srt, to_vtt
from vidspec.media.probe import MediaInfo, ProbeError, ffmpeg_exe, parse_ffmpeg_info
from vidspec.media.timeline import Timeline, Transition
from vidspec.store.atomic import atomic_write_text

__all__ = [
    "ENGINE_VERSION",
    "ClipFacts",
    "ScenePlacement",
    "StitchResult",
    "caption_cues",
    "measure",
    "plan_scenes",
    "plan_timeline",
    "stitch",
]

ENGINE_VERSION = "vidspec-stitch/1"  # bump when the same inputs would give a different output
AUDIO_RATE = 44100
TRIM_FADE = 0.15  # fade-out on a trimmed narration, so the cut doesn't click
DUCK_RAMP = 0.2
_AUDIO_FMT = f"aformat=sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=stereo"
_STDERR_TAIL = 12

Progress = Callable[[float, float], None]


# ---------------------------------------------------------------- measured facts


@dataclass(frozen=True)
class ClipFacts:
    """What the stitcher needs to know about one clip, from one `ffmpeg -c copy -f framecrc` pass (no decode)."""

    duration: float  # the video stream's presentation length: max(pts + duration) - min(pts)
    width: int
    height: int
    fps: float | None
    codec: str | None
    pix_fmt: str | None
    timebase: str | None
    extradata: str | None  # size + CRC of the codec headers (SPS/PPS): equal means stream-copy joinable
    sar_square: bool
    has_audio: bool


_TIME = re.compile(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)")
_TB = re.compile(r"^#tb 0: (\d+)/(\d+)$", re.M)
_EXTRADATA = re.compile(r"^#extradata 0:\s*(.+)$", re.M)
_SAR = re.compile(r"^#sar 0: (\d+)/(\d+)$", re.M)
_PACKET = re.compile(r"^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),", re.M)


def _last_time(stderr: str) -> float | None:
    times = _TIME.findall(stderr)
    if not times:
        return None
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def _run_scan(
    path: Path, stream: str, fmt_args: list[str]
) -> tuple[MediaInfo, subprocess.CompletedProcess[str]]:
    if not path.is_file():
        raise StitchError(f"input file not found: {path}")
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", stream, *fmt_args]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    try:
        info = parse_ffmpeg_info(proc.stderr)
    except ProbeError:
        raise StitchError(f"{path}: not a media file ffmpeg can read") from None
    kind = "video" if stream.startswith("0:v") else "audio"
    if (
        proc.returncode != 0
        or (kind == "video" and not info.has_video)
        or (kind == "audio" and not info.has_audio)
    ):
        raise StitchError(f"{path}: no {kind} stream")
    return info, proc


def clip_facts(path: Path) -> ClipFacts:
    # Packet timestamps, not `time=`: with B-frames the last packet in decode order is not the last shown.
    info, proc = _run_scan(path, "0:v:0", ["-c", "copy", "-f", "framecrc", "-"])
    tb = _TB.search(proc.stdout)
    packets = _PACKET.findall(proc.stdout)
    if info.is_image or not tb or not packets:
        raise StitchError(f"{path}: a still image or empty clip is not a scene video")
    num, den = int(tb.group(1)), int(tb.group(2))
    first = min(int(p[1]) for p in packets)
    last = max(int(p[1]) + int(p[2]) for p in packets)
    extra = _EXTRADATA.search(proc.stdout)
    sar = _SAR.search(proc.stdout)
    return ClipFacts(
        duration=(last - first) * num / den,
        width=info.width or 0,
        height=info.height or 0,
        fps=info.fps,
        codec=info.video_codec,
        pix_fmt=info.pix_fmt,
        timebase=f"{num}/{den}",
        extradata=" ".join(extra.group(1).split()) if extra else None,
        sar_square=sar is None or sar.group(1) == sar.group(2) or sar.group(1) == "0",
        has_audio=info.has_audio,
    )


def _wav_length(path: Path) -> float | None:
    """A PCM WAV's exact length from its header, without starting ffmpeg; None when unsure."""
    if path.suffix.lower() != ".wav":
        return None
    try:
        with wave.open(str(path), "rb") as w:
            frames, rate, block = w.getnframes(), w.getframerate(), w.getsampwidth() * w.getnchannels()
    except (wave.Error, EOFError, OSError):
        return None
    # A streamed WAV can carry a placeholder data size: trust the header only if the file agrees.
    if rate <= 0 or frames <= 0 or frames * block > path.stat().st_size:
        return None
    return frames / rate


def audio_length(path: Path) -> float:
    """Exact length: from a PCM WAV header, else decoded by ffmpeg (MP3/AAC headers only estimate)."""
    if path.is_file():
        quick = _wav_length(path)
        if quick is not None:
            return quick
    info, proc = _run_scan(path, "0:a:0", ["-f", "null", "-"])
    length = _last_time(proc.stderr)
    return length if length is not None else info.duration


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


# ---------------------------------------------------------------- the plan (pure)


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
        if k and t == "crossfade":
            s -= d
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


def total_duration(places: Sequence[ScenePlacement], fps: int) -> float:
    return max(p.start_frame + p.frames for p in places) / fps


def caption_cues(timeline: Timeline, places: Sequence[ScenePlacement]) -> list[Cue]:
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


# ---------------------------------------------------------------- the filter graph


def _n(x: float) -> str:
    """A number for a filter argument: fixed precision, no exponent."""
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


class _Inputs:
    def __init__(self) -> None:
        self.args: list[str] = []
        self.count = 0

    def add(self, path: Path, *pre: str) -> int:
        self.args += [*pre, "-i", str(path)]
        self.count += 1
        return self.count - 1


def _fit_filters(fit: str, w: int, h: int, width: int, height: int) -> list[str]:
    if (w, h) == (width, height):
        return []
    if fit == "stretch":
        return [f"scale={width}:{height}"]
    if fit == "contain":
        return [
            f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2",
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black",
        ]
    return [f"scale={width}:{height}:force_original_aspect_ratio=increase", f"crop={width}:{height}"]


def _video_graph(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    clip_inputs: Sequence[int],
    overlays: Sequence[tuple[int, int, int, Cue]],
) -> list[str]:
    fps = timeline.fps
    chains: list[str] = []
    for k, (scene, place, facts) in enumerate(zip(timeline.scenes, places, clips, strict=True)):
        fit = _fit_filters(scene.fit, facts.width, facts.height, timeline.width, timeline.height)
        rate = f"fps={fps}"
        # Drop surplus frames before scaling them; duplicate missing ones after.
        steps = [rate, *fit] if facts.fps and facts.fps > fps else [*fit, rate]
        steps = ["setpts=PTS-STARTPTS", *steps, "setsar=1", "format=yuv420p"]
        # Always pad a little and trim to the planned frame count: the count is exact whatever the clip.
        pad = max(1, math.ceil((place.frames / fps - facts.duration) * fps) + 1)
        steps += [f"tpad=stop_mode=clone:stop={pad}", f"trim=end_frame={place.frames}"]
        if place.transition == "fade":
            steps.append(f"fade=t=in:st=0:d={_n(place.transition_duration / 2)}")
        nxt = places[k + 1] if k + 1 < len(places) else None
        if nxt is not None and nxt.transition == "fade":
            half = nxt.transition_duration / 2
            steps.append(f"fade=t=out:st={_n(place.length - half)}:d={_n(half)}")
        chains.append(f"[{clip_inputs[k]}:v]{','.join(steps)}[v{k}]")

    pending = ["[v0]"]
    label = 0

    def flush() -> str:
        nonlocal label
        if len(pending) == 1:
            return pending[0]
        label += 1
        chains.append(f"{''.join(pending)}concat=n={len(pending)}:v=1:a=0[c{label}]")
        return f"[c{label}]"

    for k in range(1, len(places)):
        place = places[k]
        if place.transition == "crossfade":
            head = flush()
            prev_end = places[k - 1].start_frame + places[k - 1].frames
            overlap = (prev_end - place.start_frame) / fps
            label += 1
            chains.append(
                f"{head}[v{k}]xfade=transition=fade:duration={_n(overlap)}:offset={_n(place.start)}[x{label}]"
            )
            pending[:] = [f"[x{label}]"]
        else:
            pending.append(f"[v{k}]")
    cur = flush()
    for i, (idx, x, y, cue) in enumerate(overlays):
        nxt_label = f"[o{i}]"
        chains.append(
            f"{cur}[{idx}:v]overlay=x={x}:y={y}:enable='between(t,{_n(cue.start)},{_n(cue.end)})'{nxt_label}"
        )
        cur = nxt_label
    chains.append(f"{cur}format=yuv420p[vout]")
    return chains


def duck_intervals(intervals: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Narration intervals whose ramps would touch, merged: the ducking envelope is then one curve."""
    merged: list[list[float]] = []
    for a, b in sorted(intervals):
        if merged and a - DUCK_RAMP <= merged[-1][1] + DUCK_RAMP:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _duck_expr(volume: float, duck: float, intervals: Sequence[tuple[float, float]]) -> str:
    merged = duck_intervals(intervals)
    r = _n(DUCK_RAMP)
    env = ""
    for a, b in merged:
        # Trapezoid: 0 before a-r, 1 on [a, b], 0 after b+r.
        term = f"clip(min((t-{_n(a - DUCK_RAMP)})/{r},({_n(b + DUCK_RAMP)}-t)/{r}),0,1)"
        env = term if not env else f"max({env},{term})"
    return f"{_n(volume)}*(1-{_n(1 - duck)}*({env}))"


def _audio_graph(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    inputs: _Inputs,
    clip_inputs: Sequence[int] | None,
    total: float,
) -> list[str]:
    """Audio chains ending in [aout]; adds its own inputs. clip_inputs=None: clip audio gets new inputs."""
    chains: list[str] = []
    parts: list[str] = []

    def delay(t: float) -> str:
        return f"adelay=delays={max(0, round(t * AUDIO_RATE))}S:all=1"

    def part(chain: str) -> None:
        parts.append(f"[a{len(parts)}]")
        chains.append(chain + parts[-1])

    for k, (scene, place, facts) in enumerate(zip(timeline.scenes, places, clips, strict=True)):
        if scene.narration is not None and place.narration is not None:
            idx = inputs.add(scene.narration)
            steps = ["asetpts=PTS-STARTPTS", _AUDIO_FMT]
            if place.narration_trimmed:
                keep = place.narration[1] - place.narration[0]
                f = min(TRIM_FADE, keep / 2)
                steps += [f"atrim=end={_n(keep)}", f"afade=t=out:st={_n(keep - f)}:d={_n(f)}"]
            steps.append(delay(place.narration[0]))
            part(f"[{idx}:a]{','.join(steps)}")
        for cue in scene.sfx:
            idx = inputs.add(cue.path)
            part(
                f"[{idx}:a]asetpts=PTS-STARTPTS,{_AUDIO_FMT},volume={_n(cue.volume)},{delay(place.start + cue.at)}"
            )
        if scene.keep_audio and facts.has_audio:
            idx = clip_inputs[k] if clip_inputs is not None else inputs.add(scene.video)
            steps = ["asetpts=PTS-STARTPTS", _AUDIO_FMT, f"atrim=end={_n(min(place.length, facts.duration))}"]
            if place.transition != "cut":
                fade_in = place.transition_duration / (2 if place.transition == "fade" else 1)
                steps.append(f"afade=t=in:st=0:d={_n(fade_in)}")
            nxt = places[k + 1] if k + 1 < len(places) else None
            if nxt is not None and nxt.transition != "cut":
                out_d = nxt.transition_duration / (2 if nxt.transition == "fade" else 1)
                steps.append(f"afade=t=out:st={_n(max(0.0, place.length - out_d))}:d={_n(out_d)}")
            steps.append(delay(place.start))
            part(f"[{idx}:a]{','.join(steps)}")
    music = timeline.music
    if music is not None:
        idx = inputs.add(music.path, "-stream_loop", "-1")  # loops a short track; atrim ends it
        steps = ["asetpts=PTS-STARTPTS", _AUDIO_FMT, f"atrim=end={_n(total)}"]
        intervals = [p.narration for p in places if p.narration is not None]
        if music.duck is not None and intervals:
            # Small frames so the gain envelope steps every 10 ms, not every ~23 ms.
            steps += [
                f"asetnsamples=n={AUDIO_RATE // 100}",
                f"volume=volume='{_duck_expr(music.volume, music.duck, intervals)}':eval=frame",
            ]
        else:
            steps.append(f"volume={_n(music.volume)}")
        if music.fade_in > 0:
            steps.append(f"afade=t=in:st=0:d={_n(min(music.fade_in, total))}")
        if music.fade_out > 0:
            d = min(music.fade_out, total)
            steps.append(f"afade=t=out:st={_n(total - d)}:d={_n(d)}")
        part(f"[{idx}:a]{','.join(steps)}")

    end = f"apad=whole_dur={_n(total)},atrim=end={_n(total)}"
    if not parts:
        chains.append(f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=end={_n(total)}[aout]")
    elif len(parts) == 1:
        chains.append(f"{parts[0]}{end}[aout]")
    else:
        chains.append(f"{''.join(parts)}amix=inputs={len(parts)}:normalize=0:duration=longest,{end}[aout]")
    return chains


def _fast_path_ok(timeline: Timeline, places: Sequence[ScenePlacement], clips: Sequence[ClipFacts]) -> bool:
    if timeline.captions == "burn":
        return False
    first = clips[0]
    for place, c in zip(places, clips, strict=True):
        if place.transition != "cut" or place.hold > 0:
            return False
        if (c.codec, c.pix_fmt, c.width, c.height) != ("h264", "yuv420p", timeline.width, timeline.height):
            return False
        if c.fps is None or abs(c.fps - timeline.fps) > 1e-3 or not c.sar_square:
            return False
        # Same codec headers, or the joined stream would be decoded with the wrong SPS/PPS.
        if c.timebase is None or c.timebase != first.timebase or c.extradata != first.extradata:
            return False
        # The copied picture must be exactly the planned frames (a clip off the frame grid is re-encoded).
        if abs(c.duration - place.length) > 0.25 / timeline.fps:
            return False
    return True


# ---------------------------------------------------------------- running ffmpeg


def _run_ffmpeg(args: list[str], total: float, progress: Progress | None, log: Path, output: Path) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats"]
    cmd += ["-progress", "pipe:1", *args]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, errors="replace")
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if progress is not None and line.startswith("out_time_us="):
                    with contextlib.suppress(ValueError):
                        progress(min(total, max(0.0, int(line.split("=", 1)[1]) / 1e6)), total)
            rc = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C, a raising callback): don't leave ffmpeg running
                proc.kill()
                proc.wait()
    if rc != 0:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        tail = "\n".join(lines[-_STDERR_TAIL:]) or f"exit status {rc}"
        raise StitchError(f"ffmpeg failed while stitching {output}:\n{tail}")
    if progress is not None:
        progress(total, total)


def _concat_line(path: Path) -> str:
    return "file '" + str(path.resolve()).replace("'", "'\\''") + "'\n"


def _render_captions(
    cues: Sequence[Cue], width: int, height: int, tmp: Path
) -> list[tuple[Path, int, int, Cue]]:
    """One PNG per cue (drawn once, not per frame), cropped to what was drawn, with its position."""
    from vidspec.media.drawing.cards import (
        caption_image,  # Pillow drawing stays out of the import path of non-burn stitches
    )

    out: list[tuple[Path, int, int, Cue]] = []
    for i, cue in enumerate(cues):
        img = caption_image(cue.text, width, height, max_lines=2)
        box = img.getbbox()  # overlay only the drawn box: blending a mostly transparent frame costs more
        if box is None:
            continue
        x0, y0 = box[0] & ~1, box[1] & ~1  # even offsets keep yuv420p chroma aligned
        crop = img.crop((x0, y0, box[2], box[3]))
        path = tmp / f"cue{i:04d}.png"
        crop.save(path)
        out.append((path, x0, y0, cue))
    return out


# ---------------------------------------------------------------- manifest


def _renderer(timeline: Timeline) -> str:
    """Which engine draws the picture; moviepy's version with it (read from its metadata, not imported)."""
    if timeline.engine != "moviepy":
        return timeline.engine
    try:
        return f"moviepy {importlib.metadata.version('moviepy')}"
    except importlib.metadata.PackageNotFoundError:
        return "moviepy"


def _manifest_inputs(timeline: Timeline) -> dict[str, Any]:
    def ident(key: str | None, path: Path) -> str:
        if key:
            return key
        try:
            return "sha256:" + file_sha256(path)
        except OSError:
            raise StitchError(f"input file not found: {path}") from None

    scenes = []
    for s in timeline.scenes:
        keys = s.keys
        voice_key = keys.get("dub") or keys.get("narration")
        sfx = []
        for i, c in enumerate(s.sfx):
            key = keys.get(f"sfx.{i}") or (keys.get("sfx") if len(s.sfx) == 1 else None)
            sfx.append({"at": c.at, "volume": c.volume, "input": ident(key, c.path)})
        scenes.append(
            {
                "video": ident(keys.get("video"), s.video),
                "narration": None if s.narration is None else ident(voice_key, s.narration),
                "narration_text": s.narration_text,
                "narration_offset": s.narration_offset,
                "fit_audio": s.fit_audio,
                "transition": s.transition,
                "transition_duration": s.transition_duration,
                "fit": s.fit,
                "keep_audio": s.keep_audio,
                "sfx": sfx,
                "keys": dict(sorted(keys.items())),
            }
        )
    music = None
    if timeline.music is not None:
        m = timeline.music
        music = {
            "input": ident(m.key, m.path),
            "volume": m.volume,
            "fade_in": m.fade_in,
            "fade_out": m.fade_out,
            "duck": m.duck,
        }
    return {
        "engine": ENGINE_VERSION,
        "renderer": _renderer(timeline),
        "ffmpeg": Path(ffmpeg_exe()).name,  # the bundled binary's name carries its version
        "width": timeline.width,
        "height": timeline.height,
        "fps": timeline.fps,
        "captions": timeline.captions,
        "preset": timeline.preset,
        "crf": timeline.crf,
        "music": music,
        "scenes": scenes,
    }


def _digest(inputs: dict[str, Any]) -> str:
    return "sha256:" + sha256_hex(canonical_json(inputs))


# ---------------------------------------------------------------- entry point


@dataclass(frozen=True)
class StitchResult:
    path: Path
    duration: float  # planned total, seconds
    skipped: bool
    fast_path: bool
    srt: Path
    vtt: Path
    manifest: Path
    cues: tuple[Cue, ...]


def _paths(output: Path) -> tuple[Path, Path, Path]:
    return (
        output.with_suffix(".srt"),
        output.with_suffix(".vtt"),
        output.with_name(output.name + ".manifest.json"),
    )


def _up_to_date(output: Path, digest: str) -> StitchResult | None:
    srt, vtt, manifest = _paths(output)
    if not (output.is_file() and srt.is_file() and vtt.is_file() and manifest.is_file()):
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("digest") != digest:
            return None
        result = data["result"]
        st = output.stat()
        if [st.st_size, st.st_mtime_ns] != result["file"]:
            return None  # the output was replaced or touched since: it is not what the manifest describes
        cues = tuple(Cue(float(a), float(b), str(t)) for a, b, t in result["cues"])
        return StitchResult(
            output, float(result["duration"]), True, bool(result["fast_path"]), srt, vtt, manifest, cues
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: just stitch again


def _remove_stale_tmp(directory: Path, name: str) -> None:
    """Temp dirs of killed runs (their pid is gone); a live concurrent run's dir is left alone."""
    prefix = f".{name}.stitch-"
    for entry in os.listdir(directory):  # not glob: the name may hold [ ] * ?
        m = re.match(r"(\d+)-", entry[len(prefix) :]) if entry.startswith(prefix) else None
        d = directory / entry
        if not m or not d.is_dir():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def stitch(timeline: Timeline, *, progress: Progress | None = None, force: bool = False) -> StitchResult:
    """Assemble ``timeline`` into ``timeline.output`` (see the module docstring for the contract)."""
    output = Path(timeline.output)
    srt, vtt, manifest = _paths(output)
    if timeline.width % 2 or timeline.height % 2:
        raise StitchError(f"output size {timeline.width}x{timeline.height} must be even for H.264 yuv420p")
    if not timeline.scenes:
        raise StitchError("the timeline has no scenes")
    inputs_id = _manifest_inputs(timeline)
    digest = _digest(inputs_id)
    if not force:
        done = _up_to_date(output, digest)
        if done is not None:
            return done

    measured = measure(timeline)
    places = plan_scenes(timeline, [c.duration for c in measured.clips], measured.narrations)
    total = total_duration(places, timeline.fps)
    cues = caption_cues(timeline, places)
    fast = timeline.engine == "ffmpeg" and _fast_path_ok(timeline, places, measured.clips)

    output.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(output.parent, output.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.stitch-{os.getpid()}-", dir=output.parent))
    try:
        tmp_mp4 = tmp / f".{output.stem}.tmp.mp4"
        if timeline.engine == "moviepy":
            from vidspec.media.stitch.moviepy_engine import (
                render,  # moviepy loads only when this engine is chosen
            )

            render(timeline, places, measured.clips, cues, total, tmp_mp4, progress)
        else:
            inputs = _Inputs()
            chains: list[str]
            if fast:
                listing = tmp / "clips.txt"
                listing.write_text("".join(_concat_line(s.video) for s in timeline.scenes), encoding="utf-8")
                inputs.add(listing, "-f", "concat", "-safe", "0")
                chains = _audio_graph(timeline, places, measured.clips, inputs, None, total)
                vmap = "0:v:0"
                vcodec = ["-c:v", "copy"]
            else:
                clip_inputs = [inputs.add(s.video) for s in timeline.scenes]
                overlays: list[tuple[int, int, int, Cue]] = []
                if timeline.captions == "burn" and cues:
                    drawn = _render_captions(cues, timeline.width, timeline.height, tmp)
                    overlays = [(inputs.add(p), x, y, cue) for p, x, y, cue in drawn]
                chains = _video_graph(timeline, places, measured.clips, clip_inputs, overlays)
                chains += _audio_graph(timeline, places, measured.clips, inputs, clip_inputs, total)
                vmap = "[vout]"
                vcodec = [
                    "-c:v", "libx264", "-preset", timeline.preset, "-crf", str(timeline.crf),
                    "-pix_fmt", "yuv420p", "-r", str(timeline.fps),
                ]  # fmt: skip
            script = tmp / "graph.txt"
            script.write_text(";\n".join(chains), encoding="utf-8")  # a file: long graphs exceed argv limits
            args = [
                *inputs.args,
                "-/filter_complex", str(script),
                "-map", vmap, "-map", "[aout]",
                *vcodec,
                "-c:a", "aac", "-b:a", "192k", "-ar", str(AUDIO_RATE), "-ac", "2",
                "-movflags", "+faststart",
                str(tmp_mp4),
            ]  # fmt: skip
            _run_ffmpeg(args, total, progress, tmp / "ffmpeg.log", output)

        # The old manifest must not outlive the file it described, even for a moment.
        with contextlib.suppress(FileNotFoundError):
            manifest.unlink()
        os.replace(tmp_mp4, output)
        st = output.stat()
        atomic_write_text(srt, to_srt(cues))
        atomic_write_text(vtt, to_vtt(cues))
        record = {
            "digest": digest,
            "inputs": inputs_id,
            "result": {
                "duration": total,
                "fast_path": fast,
                "file": [st.st_size, st.st_mtime_ns],
                "cues": [[c.start, c.end, c.text] for c in cues],
                "scenes": [asdict(p) for p in places],
            },
        }
        atomic_write_text(manifest, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return StitchResult(output, total, False, fast, srt, vtt, manifest, tuple(cues))
