"""The ffmpeg engine: the filters of the planned cut and the one place its sound is mixed (``_audio_graph``).

Films are made by :mod:`.segments` (the picture in cached segments) and :func:`render` with ``joined``
(segments joined by stream copy, the whole sound track mixed once). :func:`render` without it draws the
same cut as ONE filter graph (the reference the segments are tested against; its memory grows ~28 MiB a
scene, which is why films are not made that way).

The default engine (``Timeline.engine`` ``ffmpeg``); the contract it renders is in
:mod:`vidspec.media.stitch`'s docstring. moviepy measured 2.9-6.6x slower on crossfades and holds an
~80 MiB decoder per clip. Every clip is fitted, frame-rate normalised and trimmed to its planned frames
(:func:`scene_steps`), joined with concat/xfade; every sound delayed sample-exactly and mixed. When
:func:`fast_path_ok`, the clips themselves are joined by the concat demuxer and stream-copied; only the
audio is encoded.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path

from vidspec.errors import StitchError, WriteError
from vidspec.media.captions import Cue
from vidspec.media.loudness import (
    Levels,
    fit_master,
    limiter_loss,
    mix_key,
    plan_levels,
    premix,
    recall_master,
    remember_master,
)
from vidspec.media.placement import AUDIO_RATE, DUCK_RAMP, TRIM_FADE, Progress, ScenePlacement, duck_intervals
from vidspec.media.probe import ClipFacts, ffmpeg_command, ffmpeg_write_error, popen_child
from vidspec.media.timeline import Timeline

__all__ = ["encode", "fast_path_ok", "n", "render", "render_captions", "scene_steps", "video_codec_args"]

_AUDIO_FMT = f"aformat=sample_fmts=fltp:sample_rates={AUDIO_RATE}:channel_layouts=stereo"
_STDERR_TAIL = 12


# ---------------------------------------------------------------- the filter graph


def _n(x: float) -> str:
    """A number for a filter argument: fixed precision, no exponent."""
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


n = _n


class _Inputs:
    def __init__(self) -> None:
        self.args: list[str] = []
        self.count = 0
        self.files: list[tuple[tuple[str, ...], Path]] = []  # per input: its options and file

    def add(self, path: Path, *pre: str) -> int:
        self.args += [*pre, "-i", str(path)]
        self.files.append((pre, path))
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


def scene_steps(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    k: int,
    facts: ClipFacts,
    window: tuple[int, int] | None = None,
    seek: bool = False,
) -> list[str]:
    """Filters turning clip k into frames ``window`` = [a, b) of its planned picture (all of it by default),
    fitted, frame-rate normalised, held and faded. ``seek``: the clip was opened with ``-copyts -ss`` before
    the window; its timestamps are then made the same as without a seek, so the same frames are picked."""
    fps = timeline.fps
    place = places[k]
    a, b = window if window is not None else (0, place.frames)
    fit = _fit_filters(timeline.scenes[k].fit, facts.width, facts.height, timeline.width, timeline.height)
    rate = f"fps={fps}"
    # Drop surplus frames before scaling them; duplicate missing ones after.
    steps = [rate, *fit] if facts.fps and facts.fps > fps else [*fit, rate]
    first = f"setpts=PTS-{_n(facts.start)}/TB" if seek else "setpts=PTS-STARTPTS"
    steps = [first, *steps, "setsar=1", "format=yuv420p"]
    # Always pad a little and trim to the planned frame count: the count is exact whatever the clip.
    pad = max(1, math.ceil((b / fps - facts.duration) * fps) + 1)
    if seek:  # after fps= the timebase is 1/fps: a pts is a frame number of the scene
        trim = f"trim=start_pts={a}:end_pts={b}"
    else:
        trim = f"trim=end_frame={b}" if a == 0 else f"trim=start_frame={a}:end_frame={b}"
    steps += [f"tpad=stop_mode=clone:stop={pad}", trim]
    # A fade only where the window reaches it: a window outside it keeps its filters (and segment key).
    if place.transition == "fade" and a <= math.ceil(place.share * fps):
        steps.append(f"fade=t=in:st=0:d={_n(place.share)}")
    nxt = places[k + 1] if k + 1 < len(places) else None
    if nxt is not None and nxt.transition == "fade" and b >= math.floor((place.length - nxt.share) * fps):
        steps.append(f"fade=t=out:st={_n(place.length - nxt.share)}:d={_n(nxt.share)}")
    if a:
        steps.append("setpts=PTS-STARTPTS")
    return steps


def _video_graph(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    clip_inputs: Sequence[int],
    overlays: Sequence[tuple[int, int, int, Cue]],
) -> list[str]:
    fps = timeline.fps
    chains: list[str] = []
    for k, facts in enumerate(clips):
        chains.append(f"[{clip_inputs[k]}:v]{','.join(scene_steps(timeline, places, k, facts))}[v{k}]")

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


def _gain(factor: float) -> list[str]:
    return [] if factor == 1.0 else [f"volume={_n(factor)}"]


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
    levels: Levels,
) -> list[str]:
    """Audio chains ending in [aout]; adds its own inputs. clip_inputs=None: clip audio gets new inputs.
    ``levels``: each sound's loudness gain (see media.loudness)."""
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
            steps = ["asetpts=PTS-STARTPTS", _AUDIO_FMT, *_gain(levels.narration[k])]
            if place.narration_trimmed:
                keep = place.narration[1] - place.narration[0]
                f = min(TRIM_FADE, keep / 2)
                steps += [f"atrim=end={_n(keep)}", f"afade=t=out:st={_n(keep - f)}:d={_n(f)}"]
            steps.append(delay(place.narration[0]))
            part(f"[{idx}:a]{','.join(steps)}")
        for i, cue in enumerate(scene.sfx):
            idx = inputs.add(cue.path)
            part(
                f"[{idx}:a]asetpts=PTS-STARTPTS,{_AUDIO_FMT},volume={_n(cue.volume * levels.sfx[k][i])},"
                f"{delay(place.start + cue.at)}"
            )
        if scene.keep_audio and facts.has_audio:
            idx = clip_inputs[k] if clip_inputs is not None else inputs.add(scene.video)
            steps = [
                "asetpts=PTS-STARTPTS", _AUDIO_FMT, *_gain(levels.clip[k]),
                f"atrim=end={_n(min(place.length, facts.duration))}",
            ]  # fmt: skip
            if place.transition != "cut":
                steps.append(f"afade=t=in:st=0:d={_n(place.share)}")
            nxt = places[k + 1] if k + 1 < len(places) else None
            if nxt is not None and nxt.transition != "cut":
                steps.append(f"afade=t=out:st={_n(max(0.0, place.length - nxt.share))}:d={_n(nxt.share)}")
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
                f"volume=volume='{_duck_expr(music.volume * levels.music, music.duck, intervals)}':eval=frame",
            ]
        else:
            steps.append(f"volume={_n(music.volume * levels.music)}")
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


def fast_path_ok(timeline: Timeline, places: Sequence[ScenePlacement], clips: Sequence[ClipFacts]) -> bool:
    """True when the clips can be joined by stream copy: all h264 yuv420p at the output size and fps with
    SAR 1 and the same codec headers and timebase, every transition a cut, no frame held, no burned captions."""
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


def _encode(args: list[str], total: float, progress: Progress | None, log: Path, output: Path) -> None:
    cmd = ffmpeg_command("-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1", *args)
    with log.open("wb") as err:
        proc = popen_child(cmd, stdout=subprocess.PIPE, stderr=err, text=True, errors="replace")
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
        full = ffmpeg_write_error(rc, "\n".join(lines))
        if full is not None:  # a full disk is not an ffmpeg failure: say so, naming the file
            raise WriteError(output, full)
        tail = "\n".join(lines[-_STDERR_TAIL:]) or f"exit status {rc}"
        raise StitchError(f"ffmpeg failed while stitching {output}:\n{tail}")
    if progress is not None:
        progress(total, total)


encode = _encode  # the segments run it too


def _mastered(chains: list[str], filters: Sequence[str]) -> list[str]:
    """``chains`` with ``filters`` applied to the summed track, which ends in [aout]."""
    k = next(i for i, c in enumerate(chains) if c.endswith("[aout]"))
    return [*chains[:k], f"{chains[k].removesuffix('[aout]')},{','.join(filters)}[aout]", *chains[k + 1 :]]


def _concat_line(path: Path) -> str:
    return "file '" + str(path.resolve()).replace("'", "'\\''") + "'\n"


def render_captions(
    cues: Sequence[Cue], width: int, height: int, tmp: Path, prefix: str = ""
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
        path = tmp / f"{prefix}cue{i:04d}.png"
        crop.save(path)
        out.append((path, x0, y0, cue))
    return out


# ---------------------------------------------------------------- entry point


def video_codec_args(timeline: Timeline) -> list[str]:
    """The picture's encoder settings; every segment of a film uses these, so their codec headers match."""
    return [
        "-c:v", "libx264", "-preset", timeline.preset, "-crf", str(timeline.crf),
        "-pix_fmt", "yuv420p", "-r", str(timeline.fps),
    ]  # fmt: skip


def render(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    cues: Sequence[Cue],
    total: float,
    out_tmp: Path,
    progress: Progress | None = None,
    *,
    fast: bool = False,
    joined: Sequence[Path] | None = None,
) -> None:
    """Encode the planned cut into ``out_tmp`` (an mp4: H.264 + 44.1 kHz stereo AAC); its scratch files
    (graph, concat list, caption PNGs, ffmpeg's log) go beside it, in the caller's private temp dir.

    ``fast``: join the clips by stream copy (only when :func:`fast_path_ok`). ``joined``: join these
    segments (:mod:`.segments`) by stream copy instead; either way the sound is mixed here, once. Raises StitchError carrying
    the last lines of ffmpeg's stderr when ffmpeg fails.
    """
    tmp = out_tmp.parent
    inputs = _Inputs()
    chains: list[str]
    levels = plan_levels(timeline, [c.has_audio for c in clips])
    if fast or joined is not None:
        files = joined if joined is not None else [s.video for s in timeline.scenes]
        listing = tmp / "clips.txt"
        listing.write_text("".join(_concat_line(f) for f in files), encoding="utf-8")
        inputs.add(listing, "-f", "concat", "-safe", "0")
        picture_inputs, picture_args = inputs.count, len(inputs.args)
        chains = _audio_graph(timeline, places, clips, inputs, None, total, levels)
        audio_chains = list(chains)
        vmap = "0:v:0"
        vcodec = ["-c:v", "copy"]
    else:
        clip_inputs = [inputs.add(s.video) for s in timeline.scenes]
        overlays: list[tuple[int, int, int, Cue]] = []
        if timeline.captions == "burn" and cues:
            drawn = render_captions(cues, timeline.width, timeline.height, tmp)
            overlays = [(inputs.add(p), x, y, cue) for p, x, y, cue in drawn]
        chains = _video_graph(timeline, places, clips, clip_inputs, overlays)
        picture_inputs, picture_args = inputs.count, len(inputs.args)
        audio_chains = _audio_graph(timeline, places, clips, inputs, clip_inputs, total, levels)
        chains += audio_chains
        vmap = "[vout]"
        vcodec = video_codec_args(timeline)
    target = timeline.loudness
    if target is not None:
        key = mix_key(inputs.files, audio_chains, timeline.checksums, target)
        master = recall_master(timeline.loudness_cache, key)
        if master is not None:  # the same sound as a stitch before (only the picture changed): no measuring
            chains = _mastered(chains, master)
        else:
            mix, bare = premix(inputs.args, audio_chains, tmp, Path(timeline.output))
            master = fit_master(bare, lambda gain: limiter_loss(mix, gain, target), target)
            remember_master(timeline.loudness_cache, key, master)
            # the encode takes the mastered mix from the file: the sound inputs and their graph are dropped
            inputs.args, inputs.count = inputs.args[:picture_args], picture_inputs
            inputs.files = inputs.files[:picture_inputs]
            chains = [c for c in chains if c not in audio_chains]
            chains.append(f"[{inputs.add(mix)}:a]{','.join(master)}[aout]")
    script = tmp / "graph.txt"
    script.write_text(";\n".join(chains), encoding="utf-8")  # a file: long graphs exceed argv limits
    args = [
        *inputs.args,
        "-/filter_complex", str(script),
        "-map", vmap, "-map", "[aout]",
        *vcodec,
        "-c:a", "aac", "-b:a", "192k", "-ar", str(AUDIO_RATE), "-ac", "2",
        "-movflags", "+faststart",
        str(out_tmp),
    ]  # fmt: skip
    _encode(args, total, progress, tmp / "ffmpeg.log", Path(timeline.output))
