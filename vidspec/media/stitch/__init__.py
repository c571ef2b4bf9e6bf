"""The stitcher: cached clips + narration + sfx + music -> the final cut.

:func:`stitch` checks the manifest, measures the media (:mod:`vidspec.media.probe`), places every scene
(:mod:`vidspec.media.placement`, the one timing model), then hands the planned cut to the engine
``Timeline.engine`` names: ``ffmpeg`` (the default) or ``moviepy`` (:mod:`.moviepy_engine`, loaded only
when chosen). The ffmpeg engine encodes the picture as cached segments (:mod:`.segments`: one per scene
body and one per crossfade, at most two clips open per ffmpeg run) and joins them by stream copy while
mixing the whole sound track once (:mod:`.ffmpeg_engine`); when the clips can be copied as they are (the
fast path below) it joins the clips themselves. It then publishes the output, the caption files and the
manifest (:mod:`.manifest`).

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
  :func:`vidspec.media.captions.split_cues`. A text without narration audio spans offset -> scene end.
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
- Every input listed in ``Timeline.checksums`` is checked against its sha256 before anything is rendered
  (a changed or missing one raises StitchError), so a damaged cached clip never reaches a cut, not even
  with ``force=True``. An up-to-date output is kept without reading its inputs.
- Segments (ffmpeg engine, not the fast path): each is keyed by the sha256 of everything that decides its
  pixels (clip identities, the exact fit/fps/hold/fade filters of its frames, burned cues in it, size, fps,
  encoder settings, the ffmpeg build) and kept in ``Timeline.segments`` (the cache's ``segments``
  namespace in a build; a private temp dir otherwise). A stitch encodes only the segments not there:
  after one scene changes, its own segment and the crossfades it takes part in. ``StitchResult`` names
  the segments encoded and counts those reused. Every segment starts on an IDR frame with the same codec
  headers, so the joined film decodes without error and has exactly the planned frames.
- ffmpeg failures raise StitchError carrying the last lines of ffmpeg's stderr.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from vidspec.errors import StitchError
from vidspec.media.placement import Progress, caption_cues, measure, plan_scenes, total_duration
from vidspec.media.stitch import ffmpeg_engine
from vidspec.media.stitch.manifest import (
    ENGINE_VERSION,
    StitchResult,
    digest_of,
    manifest_inputs,
    publish,
    up_to_date,
    work_dir,
)
from vidspec.media.stitch.segments import SegmentRun, encode_segments, plan_segments
from vidspec.media.timeline import Timeline
from vidspec.store.cache import LocalStore, verify_file

__all__ = ["ENGINE_VERSION", "SINGLE_GRAPH_MAX_SCENES", "StitchResult", "stitch"]

# Without a segment cache (nothing can be reused), films up to this many scenes are drawn by one filter
# graph: it uses ~28 MiB a scene, below two segment jobs (~740 MiB at 720p) up to here, for the same CPU.
SINGLE_GRAPH_MAX_SCENES = 12


def stitch(timeline: Timeline, *, progress: Progress | None = None, force: bool = False) -> StitchResult:
    """Assemble ``timeline`` into ``timeline.output`` (see the module docstring for the contract)."""
    output = Path(timeline.output)
    if timeline.width % 2 or timeline.height % 2:
        raise StitchError(f"output size {timeline.width}x{timeline.height} must be even for H.264 yuv420p")
    if not timeline.scenes:
        raise StitchError("the timeline has no scenes")
    inputs = manifest_inputs(timeline)
    digest = digest_of(inputs)
    if not force:
        done = up_to_date(output, digest)
        if done is not None:
            return done

    for path, sha256 in timeline.checksums:
        state = verify_file(Path(path), sha256)
        if state != "ok":
            what = "is missing" if state == "missing" else "no longer matches its sha256 (damaged)"
            raise StitchError(
                f"{path} {what}; the cut was not made. Run the build again: it fetches the file again"
            )
    measured = measure(timeline)
    places = plan_scenes(timeline, [c.duration for c in measured.clips], measured.narrations)
    total = total_duration(places, timeline.fps)
    cues = caption_cues(timeline, places)
    fast = timeline.engine == "ffmpeg" and ffmpeg_engine.fast_path_ok(timeline, places, measured.clips)

    tmp = work_dir(output)
    run: SegmentRun | None = None
    try:
        tmp_mp4 = tmp / f".{output.stem}.tmp.mp4"
        if timeline.engine == "moviepy":
            from vidspec.media.stitch import moviepy_engine  # moviepy loads only when this engine is chosen

            moviepy_engine.render(timeline, places, measured.clips, cues, total, tmp_mp4, progress)
            method = "moviepy"
        elif fast:
            ffmpeg_engine.render(timeline, places, measured.clips, cues, total, tmp_mp4, progress, fast=True)
            method = "fast-path"
        elif timeline.segments is None and len(timeline.scenes) <= SINGLE_GRAPH_MAX_SCENES:
            # Nothing to keep segments in and a short film: one graph, one process (measured: same CPU,
            # less memory up to here; see bench/stitch.py --long)
            ffmpeg_engine.render(timeline, places, measured.clips, cues, total, tmp_mp4, progress)
            method = "single-graph"
        else:
            idents = [scene["video"] for scene in inputs["scenes"]]
            segs = plan_segments(timeline, places, measured.clips, idents, cues)
            store = LocalStore(timeline.segments if timeline.segments is not None else tmp / "segments")
            run = encode_segments(timeline, places, measured.clips, cues, segs, store, tmp, progress, total)
            ffmpeg_engine.render(
                timeline, places, measured.clips, cues, total, tmp_mp4, None, joined=run.paths
            )
            if progress is not None:
                progress(total, total)
            method = "segments"
        return publish(
            tmp_mp4,
            output,
            digest=digest,
            inputs=inputs,
            places=places,
            cues=cues,
            total=total,
            fast_path=fast,
            method=method,
            segments_encoded=run.encoded if run else (),
            segments_reused=run.reused if run else 0,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
