"""Media facts from the bundled ffmpeg (imageio-ffmpeg ships no ffprobe)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    is_image: bool = False

    @property
    def has_video(self) -> bool:
        return self.width is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


class ProbeError(Exception):
    """The file is not a media file ffmpeg can read."""


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)(.*)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_PIXFMT = re.compile(r"\b(yuv\w+|rgb\w*|rgba|gray\w*|pal8|bgr\w+|nv12)\b")
_IMAGE_CODECS = {"png", "mjpeg", "webp", "bmp", "gif", "tiff"}


def parse_ffmpeg_info(stderr: str) -> MediaInfo:
    duration = 0.0
    m = _DURATION.search(stderr)
    if m:
        h, mi, s = m.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    width = height = None
    fps = None
    vcodec = pix = None
    v = _VIDEO.search(stderr)
    if v:
        vcodec, rest = v.group(1), v.group(2)
        size = _SIZE.search(rest)
        if size:
            width, height = int(size.group(1)), int(size.group(2))
        f = _FPS.search(rest)
        if f:
            fps = float(f.group(1))
        p = _PIXFMT.search(rest)
        pix = p.group(1) if p else None
    acodec = None
    rate = None
    a = _AUDIO.search(stderr)
    if a:
        acodec, rate = a.group(1), int(a.group(2))
    if vcodec is None and acodec is None:
        raise ProbeError("no audio or video stream found")
    is_image = vcodec in _IMAGE_CODECS and acodec is None and duration < 0.05
    return MediaInfo(duration, width, height, fps, vcodec, pix, acodec, rate, is_image)


def probe(path: str | Path) -> MediaInfo:
    """Read container facts with `ffmpeg -i` (no decode)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
    )
    try:
        return parse_ffmpeg_info(proc.stderr)
    except ProbeError as exc:
        raise ProbeError(f"{path}: {exc}") from None


def measured_duration(path: str | Path) -> float:
    """Decode the whole file and return the exact duration (slower than probe)."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        errors="replace",
    )
    times = re.findall(r"time=(\d+):(\d+):(\d+(?:\.\d+)?)", proc.stderr)
    if not times:
        return probe(path).duration
    h, m, s = times[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def mean_volume_db(path: str | Path, start: float = 0.0, duration: float | None = None) -> float:
    """Mean loudness of the audio (dBFS) over a window; -91 or lower means silence."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-ss", f"{start:.3f}"]
    if duration is not None:
        cmd += ["-t", f"{duration:.3f}"]
    cmd += ["-i", str(path), "-vn", "-af", "volumedetect", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    m = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", proc.stderr)
    if not m or m.group(1) == "-inf":
        return -200.0
    return float(m.group(1))
