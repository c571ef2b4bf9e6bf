"""Segment-wise encoding: the picture as a row of short H.264 files, each cached under the content it depends on.

The film's picture is cut into segments on the output frame grid: one **scene** segment per scene (its
frames outside any crossfade, fades included) and one **crossfade** segment per crossfade (the frames where
two scenes overlap, owned by the outgoing scene). A segment's key is the sha256 of everything that decides its
pixels: the identity of each clip it reads (cache key, else sha256), the exact filter chain that fits, times,
holds and fades it, the burned caption cues inside it (relative times), frame size, fps, the encoder
settings and the ffmpeg build. Segments live in a LocalStore (``Timeline.segments``; a private temp dir
without one), so an unchanged segment is never encoded twice; after one scene changes only its scene
segment and the crossfades it takes part in are.

Each segment starts on an IDR frame (x264's GOPs are closed; the first frame is forced a keyframe) and has
the same codec headers as every other (same encoder, size, fps and settings), so the concat demuxer joins
them by stream copy without a glitch. One ffmpeg process per scene encodes its scene segment and the
crossfade out of it together (the clip is decoded once), with at most two clips open: memory does not grow
with the number of scenes. The sound is mixed once over the whole film when the segments are joined
(:func:`vidspec.media.stitch.ffmpeg_engine.render` with ``joined``).
"""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vidspec.core.hashing import canonical_json, file_sha256, sha256_hex
from vidspec.media.captions import Cue
from vidspec.media.placement import Progress, ScenePlacement
from vidspec.media.probe import ClipFacts, ffmpeg_version
from vidspec.media.stitch.ffmpeg_engine import encode, n, render_captions, scene_steps, video_codec_args
from vidspec.media.timeline import Timeline
from vidspec.store.cache import LocalStore, Record, now

__all__ = ["SEGMENT_VERSION", "Segment", "SegmentRun", "encode_segments", "plan_segments"]

SEGMENT_VERSION = "vidspec-segment/1"  # bump when the same key would give different pixels
SegmentKind = Literal["scene", "crossfade"]
# ffmpeg runs at a time: two fill the cores while the other starts up or drains its encoder; each holds at
# most two clips, so memory stays flat in the number of scenes
JOBS = 2


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    scene: int  # the scene it belongs to (a crossfade: the outgoing scene)
    label: str  # for people: "scene intro", "crossfade intro>city"
    start_frame: int  # in the film
    frames: int
    window: tuple[int, int]  # frames of scene `scene` it shows, in that scene's own frame numbers
    key: str


@dataclass(frozen=True)
class SegmentRun:
    paths: tuple[Path, ...]  # every segment, in film order
    encoded: tuple[str, ...]  # labels of the segments encoded by this run
    reused: int  # segments found in the store


def _overlap(places: Sequence[ScenePlacement], k: int) -> int:
    """Frames by which scene k overlaps scene k-1 (a crossfade into it), 0 otherwise."""
    if k == 0 or k >= len(places) or places[k].transition != "crossfade":
        return 0
    prev = places[k - 1]
    return max(0, prev.start_frame + prev.frames - places[k].start_frame)


def _cues_in(cues: Sequence[Cue], start_frame: int, frames: int, fps: int) -> list[tuple[int, int, Cue]]:
    """The cues shown in a segment, as (first, last) of its own frame numbers (inclusive, clipped to it)."""
    out = []
    for c in cues:
        first = max(0, math.ceil(c.start * fps - 1e-6) - start_frame)
        last = min(frames - 1, math.floor(c.end * fps + 1e-6) - start_frame)
        if first <= last:
            out.append((first, last, c))
    return out


def plan_segments(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    idents: Sequence[str],
    cues: Sequence[Cue],
) -> list[Segment]:
    """The segments of the film in order, each with its key. Pure."""
    fps = timeline.fps
    burn = timeline.captions == "burn"
    common = {
        "engine": SEGMENT_VERSION,
        "ffmpeg": ffmpeg_version(),
        "codec": video_codec_args(timeline),
        "size": [timeline.width, timeline.height],
        "fps": fps,
    }

    def key(body: dict[str, Any], start_frame: int, frames: int) -> str:
        caps = [[c.text, i, j] for i, j, c in _cues_in(cues, start_frame, frames, fps)] if burn else []
        return "sha256:" + sha256_hex(canonical_json({**common, **body, "captions": caps}))

    out: list[Segment] = []
    for k, place in enumerate(places):
        sid = timeline.scenes[k].scene_id
        a, b = _overlap(places, k), place.frames - _overlap(places, k + 1)
        if b > a:
            body: dict[str, Any] = {
                "kind": "scene",
                "video": idents[k],
                "filters": scene_steps(timeline, places, k, clips[k], (a, b)),
            }
            start = place.start_frame + a
            out.append(Segment("scene", k, f"scene {sid}", start, b - a, (a, b), key(body, start, b - a)))
        ov = _overlap(places, k + 1)
        if ov:
            nxt = places[k + 1]
            body = {
                "kind": "crossfade",
                "from": idents[k],
                "from_filters": scene_steps(timeline, places, k, clips[k], (place.frames - ov, place.frames)),
                "to": idents[k + 1],
                "to_filters": scene_steps(timeline, places, k + 1, clips[k + 1], (0, ov)),
                "frames": ov,
            }
            label = f"crossfade {sid}>{timeline.scenes[k + 1].scene_id}"
            window = (place.frames - ov, place.frames)
            out.append(
                Segment("crossfade", k, label, nxt.start_frame, ov, window, key(body, nxt.start_frame, ov))
            )
    return out


def _seek(frames: int, facts: ClipFacts, fps: int) -> int:
    """Output frames to skip by seeking when only the tail from ``frames`` on is needed (a second of margin)."""
    return max(0, min(frames, math.floor(facts.duration * fps)) - fps)


def _job_args(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    cues: Sequence[Cue],
    k: int,
    todo: Sequence[Segment],
    dests: Sequence[Path],
    tmp: Path,
) -> list[str]:
    """One ffmpeg run for scene k's missing segments (its scene segment, the crossfade out of it, or both)."""
    fps = timeline.fps
    place = places[k]
    lo = min(s.window[0] for s in todo)
    # Only a tail is wanted (a crossfade out of a cached scene): seek to a second before it.
    seek = lo >= 2 * fps and _seek(lo, clips[k], fps) > 0
    args: list[str] = []
    if seek:
        args += ["-copyts", "-ss", n(_seek(lo, clips[k], fps) / fps)]
    args += ["-i", str(timeline.scenes[k].video)]
    inputs = 1
    chains = [f"[0:v]{','.join(scene_steps(timeline, places, k, clips[k], (lo, place.frames), seek))}"]
    if len(todo) > 1:
        chains[0] += f",split={len(todo)}" + "".join(f"[p{i}]" for i in range(len(todo)))
    else:
        chains[0] += "[p0]"
    outputs: list[str] = []
    for i, (seg, dest) in enumerate(zip(todo, dests, strict=True)):
        a, b = seg.window
        label = f"[p{i}]"
        if (a, b) != (lo, place.frames):
            chains.append(f"{label}trim=start_frame={a - lo}:end_frame={b - lo},setpts=PTS-STARTPTS[q{i}]")
            label = f"[q{i}]"
        if seg.kind == "crossfade":
            nxt = k + 1
            args += ["-i", str(timeline.scenes[nxt].video)]
            idx = inputs
            inputs += 1
            head = ",".join(scene_steps(timeline, places, nxt, clips[nxt], (0, seg.frames)))
            chains.append(f"[{idx}:v]{head}[h{i}]")
            chains.append(f"{label}[h{i}]xfade=transition=fade:duration={n(seg.frames / fps)}:offset=0[x{i}]")
            label = f"[x{i}]"
        if timeline.captions == "burn":
            shown = _cues_in(cues, seg.start_frame, seg.frames, fps)
            drawn = render_captions(
                [c for _, _, c in shown], timeline.width, timeline.height, tmp, f"s{k}_{i}_"
            )
            frames_of = {id(c): (first, last) for first, last, c in shown}
            for j, (png, x, y, cue) in enumerate(drawn):
                first, last = frames_of[id(cue)]
                args += ["-i", str(png)]
                nxt_label = f"[o{i}_{j}]"
                enable = f"between(n,{first},{last})"  # frame numbers: exact at the segment's edges
                chains.append(f"{label}[{inputs}:v]overlay=x={x}:y={y}:enable='{enable}'{nxt_label}")
                inputs += 1
                label = nxt_label
        chains.append(f"{label}format=yuv420p[out{i}]")
        outputs += ["-map", f"[out{i}]", *video_codec_args(timeline), "-an", str(dest)]
    script = tmp / f"scene{k}.graph.txt"
    script.write_text(";\n".join(chains), encoding="utf-8")
    return [*args, "-/filter_complex", str(script), *outputs]


def encode_segments(
    timeline: Timeline,
    places: Sequence[ScenePlacement],
    clips: Sequence[ClipFacts],
    cues: Sequence[Cue],
    segments: Sequence[Segment],
    store: LocalStore,
    tmp: Path,
    progress: Progress | None = None,
    total: float = 0.0,
) -> SegmentRun:
    """Encode the segments the store lacks (one ffmpeg run per scene that has any, JOBS at a time), then
    return them all."""
    found: dict[str, Path] = {}
    for seg in segments:
        hit = store.get(seg.key)
        if hit is not None:
            found[seg.key] = hit[1]
    missing = [s for s in segments if s.key not in found]
    fps = timeline.fps
    work = store.tmp_dir()
    lock = threading.Lock()
    stop = threading.Event()
    done = {-1: sum(s.frames for s in segments if s.key in found) / fps}  # seconds of picture, per job

    def job(k: int, todo: list[Segment]) -> list[tuple[Segment, Path]]:
        dests = [work / f"{s.key.split(':')[-1]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.mp4" for s in todo]

        def report(t: float, _: float) -> None:
            if stop.is_set():  # another job failed or was interrupted: stop this ffmpeg too
                raise CancelledError  # only ever seen by this job: the first failure is what is raised
            with lock:
                done[k] = t
                if progress is not None:
                    progress(min(sum(done.values()), total), total)

        try:
            length = sum(s.frames for s in todo) / fps
            args = _job_args(timeline, places, clips, cues, k, todo, dests, tmp)
            encode(args, length, report, tmp / f"scene{k}.log", Path(timeline.output))
            kept = []
            for seg, dest in zip(todo, dests, strict=True):
                record = Record(
                    key=seg.key, name=seg.label, kind="segment", model="libx264", endpoint="stitch",
                    file=f"{seg.key.split(':')[-1]}.mp4", output_sha256=file_sha256(dest),
                    size=dest.stat().st_size, duration=seg.frames / fps, task_id=None, credits_estimated=0,
                    credits_charged=None, created_at=now(), backend="stitch",
                )  # fmt: skip
                kept.append((seg, store.put(seg.key, dest, record)))
            return kept
        finally:
            for dest in dests:
                dest.unlink(missing_ok=True)

    jobs = [(k, [s for s in missing if s.scene == k]) for k in sorted({s.scene for s in missing})]
    encoded: list[str] = []
    results: dict[int, list[tuple[Segment, Path]]] = {}
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {pool.submit(job, k, todo): k for k, todo in jobs}
        try:
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
        except BaseException:
            stop.set()  # the running jobs kill their ffmpeg at its next progress line; queued ones never start
            for fut in futures:
                fut.cancel()
            raise
    for k, _ in jobs:
        for seg, path in results[k]:
            found[seg.key] = path
            encoded.append(seg.label)
    reused = len(segments) - len(encoded)
    return SegmentRun(tuple(found[s.key] for s in segments), tuple(encoded), reused)
