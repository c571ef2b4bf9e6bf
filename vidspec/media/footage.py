"""A scene's own footage, cut to its trim on the frame: one ffmpeg re-encode of [start, end) into a clip the
stitcher takes like a generated one (H.264 yuv420p, even sides, AAC when it has sound)."""

from __future__ import annotations

from pathlib import Path

from vidspec.errors import ProbeError, StitchError
from vidspec.media.probe import MediaInfo, ffmpeg_write_error, probe, run_ffmpeg

__all__ = ["cut_footage", "trim_frames"]


def trim_frames(start: float, end: float, fps: float) -> int:
    """The frames of the source that [start, end) holds, whole: at least one."""
    return max(1, round((end - start) * fps))


def cut_footage(src: Path, out: Path, trim: tuple[float, float] | None) -> MediaInfo:
    """Write `src` (all of it, or its `trim`) to `out`; returns what the source is. Raises StitchError when
    the source is not a video or ffmpeg fails (an OSError when the disk is full)."""
    try:
        info = probe(src)
    except ProbeError as exc:
        raise StitchError(f"{src.name} is not a video ffmpeg can read ({exc})") from None
    if not info.has_video or info.is_image:
        raise StitchError(f"{src.name} has no video stream")
    args = ["-y"]
    if trim is not None:
        start, end = trim
        args += ["-ss", f"{start:.6f}", "-i", str(src), "-t", f"{end - start:.6f}"]
        if info.fps:  # exact: the trim's frames, not whatever -t rounds to
            args += ["-frames:v", str(trim_frames(start, end, info.fps))]
    else:
        args += ["-i", str(src)]
    args += [
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-ar", "44100", "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    proc = run_ffmpeg(*args)
    if proc.returncode != 0:
        written = ffmpeg_write_error(proc.returncode, proc.stderr)
        if written is not None:
            raise written
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise StitchError(f"ffmpeg could not cut {src.name}:\n{tail}")
    return info
