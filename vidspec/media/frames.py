"""One frame of a clip as a PNG (continuity: another scene's first, last or timed frame as a reference image)."""

from __future__ import annotations

from pathlib import Path

from vidspec.errors import AssetFailed
from vidspec.media.probe import ffmpeg_exe, run_child

# Decoding starts this far before the end for `last`: every frame from there is written over the same file,
# so the one left is the clip's last decoded frame (exact, whatever the frame rate; a shorter clip from 0).
_TAIL_SECONDS = 1.0


def extract_frame(clip: Path, at: str | float, out: Path) -> Path:
    """Write the frame of ``clip`` at ``at`` ("first", "last" or seconds) to ``out`` as a PNG.

    A time inside the clip's last frame interval (or past a clip shorter than the spec's duration) has no
    frame to start at: it takes the last frame."""
    if not isinstance(at, str):
        try:
            return _extract(clip, at, out)
        except AssetFailed:
            return _extract(clip, "last", out)
    return _extract(clip, at, out)


def _extract(clip: Path, at: str | float, out: Path) -> Path:
    out.unlink(missing_ok=True)
    if at == "last":
        seek = ["-sseof", f"-{_TAIL_SECONDS:g}"]
        pick = ["-update", "1"]
    else:
        seconds = 0.0 if at == "first" else float(at)
        seek = ["-ss", f"{seconds:.3f}"] if seconds > 0 else []
        pick = ["-frames:v", "1"]
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *seek, "-i", str(clip),
        "-map", "0:v:0", *pick, "-f", "image2", "-c:v", "png", str(out),
    ]  # fmt: skip
    proc = run_child(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        where = (
            "the last frame" if at == "last" else "the first frame" if at == "first" else f"a frame at {at} s"
        )
        detail = proc.stderr.strip().splitlines()[-1:] or ["no frame there"]
        raise AssetFailed(f"could not take {where} of {clip.name}: {detail[0]}")
    return out
