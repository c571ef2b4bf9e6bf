"""Small but real media files for the fake Runway server (memoised by kind, size and duration)."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
import threading
import wave
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from vidspec.media.probe import ProbeError, ffmpeg_exe, probe

FPS = 24
WAV_RATE = 22050


def scaled_size(ratio: str, scale: float) -> tuple[int, int]:
    """`"1280:720"` at scale 0.25 -> (320, 180); both sides even and at least 2."""
    w, h = (int(x) for x in ratio.split(":"))
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def tone_wav(seconds: float, freq: float = 330.0) -> bytes:
    """Mono 22050 Hz s16 tone with a 4 Hz tremolo (never silent)."""
    n = max(1, round(seconds * WAV_RATE))
    t = np.arange(n, dtype=np.float64) / WAV_RATE
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t)
    samples = (0.4 * 32767 * env * np.sin(2 * np.pi * freq * t)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(WAV_RATE)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def media_duration(data: bytes, suffix: str = ".bin") -> tuple[float, int | None, int | None] | None:
    """(duration, width, height) of a media file held in memory, via ffmpeg; None if unreadable."""
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        try:
            info = probe(f.name)
        except ProbeError:
            return None
    if info.duration <= 0:
        return None
    return info.duration, info.width, info.height


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({proc.returncode}): {proc.stderr[-800:]}")


class MediaCache:
    """Renders each distinct output once, in a background pool, into a private temp directory."""

    def __init__(self, workers: int = 2) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-runway-media-")
        self.dir = Path(self._tmp.name)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fake-media")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Path]] = {}
        self.renders = 0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._tmp.cleanup()

    def get(
        self, kind: str, width: int = 0, height: int = 0, seconds: float = 0.0, audio: bool = False
    ) -> Path:
        return self.submit(kind, width, height, seconds, audio).result()

    def submit(
        self, kind: str, width: int = 0, height: int = 0, seconds: float = 0.0, audio: bool = False
    ) -> Future[Path]:
        """kind: "video" (mp4), "image" (png) or "audio" (wav)."""
        seconds = round(seconds, 3)
        key = f"{kind}-{width}x{height}-{seconds:.3f}-{int(audio)}"
        with self._lock:
            fut = self._futures.get(key)
            if fut is None or (fut.done() and fut.exception() is not None):
                fut = self._pool.submit(self._render, key, kind, width, height, seconds, audio)
                self._futures[key] = fut
            return fut

    def _render(self, key: str, kind: str, width: int, height: int, seconds: float, audio: bool) -> Path:
        name = hashlib.sha1(key.encode()).hexdigest()[:16]
        ext = {"video": ".mp4", "image": ".png", "audio": ".wav"}[kind]
        out = self.dir / f"{name}{ext}"
        tmp = out.with_name(out.stem + ".part" + ext)
        if kind == "audio":
            tmp.write_bytes(tone_wav(seconds))
        elif kind == "image":
            _run(
                [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                 f"testsrc2=s={width}x{height}:r=1:d=1", "-frames:v", "1", str(tmp)]
            )  # fmt: skip
        else:
            cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                   f"testsrc2=s={width}x{height}:r={FPS}:d={seconds}"]  # fmt: skip
            if audio:
                cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
            cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", str(FPS)]
            if audio:
                cmd += ["-c:a", "aac", "-b:a", "64k"]
            cmd += ["-t", str(seconds), "-movflags", "+faststart", str(tmp)]
            _run(cmd)
        tmp.replace(out)
        with self._lock:
            self.renders += 1
        return out
