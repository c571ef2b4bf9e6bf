"""Media facts from the bundled ffmpeg (imageio-ffmpeg ships no ffprobe), the one way to run it for them, and
the one way vidspec starts any child process (run_child, popen_child): children die with their parent."""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import subprocess
import sys
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from vidspec.errors import ProbeError as ProbeError  # defined in errors.py
from vidspec.errors import StitchError

__all__ = [
    "ClipFacts",
    "MediaInfo",
    "ProbeError",
    "audio_length",
    "clip_facts",
    "ffmpeg_command",
    "ffmpeg_exe",
    "ffmpeg_version",
    "last_time",
    "mean_volume_db",
    "measured_duration",
    "ffmpeg_write_error",
    "parse_ffmpeg_info",
    "popen_child",
    "probe",
    "run_child",
    "run_ffmpeg",
    "wav_length",
]


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version`` (the build, for keys of what it encodes); the binary's name if
    it cannot say."""
    try:
        out = run_child([ffmpeg_exe(), "-version"], capture_output=True, text=True, errors="replace").stdout
    except OSError:
        out = ""
    return out.splitlines()[0].split(" Copyright")[0].strip() if out.strip() else Path(ffmpeg_exe()).name


def ffmpeg_command(*args: str) -> list[str]:
    """The bundled ffmpeg with ``args``: no banner, never reading stdin."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]


def run_ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg to completion, stdout and stderr captured as text (stderr carries what it reports)."""
    return run_child(ffmpeg_command(*args), capture_output=True, text=True, errors="replace")


# ---------------------------------------------------------------- children that die with their parent

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved in the parent so the forked child only calls it; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    fn.restype = ctypes.c_int
    return fn


def _die_with(prctl: Callable[..., int], parent: int) -> None:
    # Runs in the child between fork and exec: SIGKILL when the parent dies, and if it already has (the
    # child was re-parented before the call took effect), die now.
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def _child_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    prctl = _prctl()
    if prctl is not None and "preexec_fn" not in kwargs:
        kwargs["preexec_fn"] = partial(_die_with, prctl, os.getpid())
    return kwargs


def popen_child(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen for every child vidspec starts: on Linux the child gets PR_SET_PDEATHSIG, so a
    SIGKILLed build leaves no ffmpeg running. The signal follows the spawning *thread*: the thread that
    starts a child must wait for it (every caller here does)."""
    return subprocess.Popen(list(cmd), **_child_options(kwargs))


def run_child(cmd: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """subprocess.run with the same guarantee as popen_child."""
    return subprocess.run(list(cmd), **_child_options(kwargs))


# ffmpeg exits with -AVERROR & 0xff: 228 is -ENOSPC. Only causes that can only come from writing count (a
# "Permission denied" may be about reading an input).
_FFMPEG_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
_FFMPEG_WRITE_TEXT = {errno.ENOSPC: "No space left on device", errno.EROFS: "Read-only file system"}


def ffmpeg_write_error(returncode: int, stderr: str) -> OSError | None:
    """The OSError behind a failed ffmpeg run when it failed to write its output (a full disk, a
    read-only file system), from its exit status or its log; None otherwise."""
    if returncode == 0:
        return None
    code = next((e for e in _FFMPEG_WRITE_ERRNOS if returncode == 256 - e), None)
    if code is None:
        code = next((e for e, text in _FFMPEG_WRITE_TEXT.items() if text in stderr), None)
    return None if code is None else OSError(code, os.strerror(code))


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


_CLOCK = r"(\d+):(\d+):(\d+(?:\.\d+)?)"  # ffmpeg's HH:MM:SS.ss
_DURATION = re.compile(r"Duration: " + _CLOCK)
_TIME = re.compile(r"time=" + _CLOCK)
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)(.*)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_PIXFMT = re.compile(r"\b(yuv\w+|rgb\w*|rgba|gray\w*|pal8|bgr\w+|nv12)\b")
_IMAGE_CODECS = {"png", "mjpeg", "webp", "bmp", "gif", "tiff"}


def _seconds(clock: re.Match[str]) -> float:
    return int(clock[1]) * 3600 + int(clock[2]) * 60 + float(clock[3])


def last_time(stderr: str) -> float | None:
    """The last ``time=`` ffmpeg reported: after a full decode, the exact length of what it read."""
    times = list(_TIME.finditer(stderr))
    return _seconds(times[-1]) if times else None


def parse_ffmpeg_info(stderr: str) -> MediaInfo:
    m = _DURATION.search(stderr)
    duration = _seconds(m) if m else 0.0
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
    proc = run_ffmpeg("-i", str(path))
    try:
        return parse_ffmpeg_info(proc.stderr)
    except ProbeError as exc:
        raise ProbeError(f"{path}: {exc}") from None


def measured_duration(path: str | Path) -> float:
    """Decode the whole file and return the exact duration (slower than probe)."""
    length = last_time(run_ffmpeg("-i", str(path), "-f", "null", "-").stderr)
    return length if length is not None else probe(path).duration


def mean_volume_db(path: str | Path, start: float = 0.0, duration: float | None = None) -> float:
    """Mean loudness of the audio (dBFS) over a window; -91 or lower means silence."""
    args = ["-ss", f"{start:.3f}"]
    if duration is not None:
        args += ["-t", f"{duration:.3f}"]
    args += ["-i", str(path), "-vn", "-af", "volumedetect", "-f", "null", "-"]
    proc = run_ffmpeg(*args)
    m = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", proc.stderr)
    if not m or m.group(1) == "-inf":
        return -200.0
    return float(m.group(1))


def wav_length(wav: Path | bytes) -> float | None:
    """A PCM WAV's exact length from its header (a file, or its bytes), without ffmpeg; None when unsure."""
    try:
        size = len(wav) if isinstance(wav, bytes) else wav.stat().st_size
        with wave.open(io.BytesIO(wav) if isinstance(wav, bytes) else str(wav), "rb") as w:
            frames, rate, block = w.getnframes(), w.getframerate(), w.getsampwidth() * w.getnchannels()
    except (wave.Error, EOFError, OSError, ValueError):
        return None
    # A streamed WAV can carry a placeholder data size: trust the header only if the file agrees.
    if rate <= 0 or frames <= 0 or frames * block > size:
        return None
    return frames / rate


# ---------------------------------------------------------------- what the stitcher measures


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
    start: float = 0.0  # the first frame's timestamp, seconds (what setpts=PTS-STARTPTS subtracts)


_TB = re.compile(r"^#tb 0: (\d+)/(\d+)$", re.M)
_EXTRADATA = re.compile(r"^#extradata 0:\s*(.+)$", re.M)
_SAR = re.compile(r"^#sar 0: (\d+)/(\d+)$", re.M)
_PACKET = re.compile(r"^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),", re.M)


def _scan(path: Path, stream: str, fmt_args: list[str]) -> tuple[MediaInfo, subprocess.CompletedProcess[str]]:
    if not path.is_file():
        raise StitchError(f"input file not found: {path}")
    proc = run_ffmpeg("-i", str(path), "-map", stream, *fmt_args)
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
    info, proc = _scan(path, "0:v:0", ["-c", "copy", "-f", "framecrc", "-"])
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
        start=first * num / den,
    )


def audio_length(path: Path) -> float:
    """Exact length: from a PCM WAV header, else decoded by ffmpeg (MP3/AAC headers only estimate)."""
    if path.suffix.lower() == ".wav" and path.is_file():
        quick = wav_length(path)
        if quick is not None:
            return quick
    info, proc = _scan(path, "0:a:0", ["-f", "null", "-"])
    length = last_time(proc.stderr)
    return length if length is not None else info.duration
