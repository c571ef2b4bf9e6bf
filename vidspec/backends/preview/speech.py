"""Offline text-to-speech for the preview backend (espeak-ng through espeakng-loader and ctypes).

libespeak-ng keeps global state and calls ``exit(1)`` when it cannot find its data, which would kill
the host process. So synthesis always runs in a child process (``python -m vidspec.backends.preview.speech``); the
parent only sees an exit code and a finished WAV file.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import subprocess
import sys
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import vidspec
from vidspec.errors import SpeechUnavailable as SpeechUnavailable  # defined in errors.py
from vidspec.errors import UnknownVoice as UnknownVoice
from vidspec.media.probe import run_child, wav_length

_DEFAULT_VOICE = "en-us"
# Exit codes of the child process, mapped to exceptions in the parent.
_EXIT_UNAVAILABLE = 2
_EXIT_UNKNOWN_VOICE = 3
_EXIT_NO_AUDIO = 4


def _paths() -> tuple[Path, Path]:
    import espeakng_loader

    return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())


def available() -> bool:
    """True when espeakng-loader is importable and its library and data directory exist."""
    try:
        lib, data = _paths()
    except (ImportError, RuntimeError, OSError):
        return False
    return lib.is_file() and (data / "phontab").is_file()


@contextlib.contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """Yield a temp path in ``out``'s directory; move it onto ``out`` only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def write_wav(out: Path, samples: np.ndarray, rate: int) -> None:
    """Write float samples in [-1, 1] (or int16) as a 16-bit mono WAV, atomically."""
    if samples.dtype != np.int16:
        samples = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with atomic_path(out) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def synthesize(text: str, out_wav: Path, *, voice: str = _DEFAULT_VOICE, rate_wpm: int = 165) -> float:
    """Speak ``text`` into ``out_wav`` (16-bit mono) and return its duration in seconds.

    Raises UnknownVoice for a voice espeak-ng lacks and SpeechUnavailable for everything else.
    """
    if not text.strip():
        raise ValueError("nothing to say: empty text")
    if not available():
        raise SpeechUnavailable("espeakng-loader is not installed or its data is missing")
    out_wav = Path(out_wav)
    cmd = [sys.executable, "-m", "vidspec.backends.preview.speech", "--out", str(out_wav), "--voice", voice]
    cmd += ["--rate", str(int(rate_wpm))]
    # espeak runs ~30x realtime; the timeout only guards against a hung library.
    timeout = 30.0 + len(text) / 20.0
    try:
        proc = run_child(
            cmd, input=text.encode("utf-8"), capture_output=True, timeout=timeout, env=_child_env()
        )
    except subprocess.TimeoutExpired:
        raise SpeechUnavailable(f"espeak-ng did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise SpeechUnavailable(f"cannot start the speech process: {exc}") from None
    detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    reason = detail[-1] if detail else f"exit code {proc.returncode}"
    if proc.returncode == _EXIT_UNKNOWN_VOICE:
        raise UnknownVoice(f"espeak-ng has no voice {voice!r}")
    if proc.returncode != 0 or not out_wav.is_file():
        raise SpeechUnavailable(f"espeak-ng failed: {reason}")
    length = wav_length(out_wav)
    if length is None:
        raise SpeechUnavailable("espeak-ng wrote no readable WAV")
    return length


def _child_env() -> dict[str, str]:
    # The child must import this package even when vidspec is run from a source tree, not installed.
    env = dict(os.environ)
    root = str(Path(vidspec.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def tone(out_wav: Path, seconds: float, *, seed: int, rate: int = 22050) -> float:
    """A soft two-partial tone with a gentle swell, exactly ``seconds`` long; returns the duration."""
    n = max(1, int(round(seconds * rate)))
    t = np.arange(n, dtype=np.float64) / rate
    base = 180.0 + (seed % 12) * 12.0  # a per-seed pitch so consecutive narrations are told apart
    wave_ = 0.7 * np.sin(2 * math.pi * base * t) + 0.3 * np.sin(2 * math.pi * base * 1.5 * t)
    wave_ *= 0.75 + 0.25 * np.sin(2 * math.pi * 2.2 * t)  # slow pulse, roughly a syllable rhythm
    edge = min(0.25, seconds / 4)
    env = np.ones(n)
    k = max(1, int(edge * rate))
    if 2 * k <= n:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, k))
        env[:k] = ramp
        env[n - k :] = ramp[::-1]
    write_wav(Path(out_wav), 0.12 * wave_ * env, rate)
    return n / rate


# ---------------------------------------------------------------------------------------------
# Child process: the only code that loads libespeak-ng.


def _child(text: str, out: Path, voice: str, rate_wpm: int) -> int:
    import ctypes

    lib_path, data_path = _paths()
    lib = ctypes.CDLL(str(lib_path))
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    # AUDIO_OUTPUT_SYNCHRONOUS = 2. The data path is mandatory: without it the library exit(1)s.
    sample_rate = lib.espeak_Initialize(2, 0, str(data_path).encode(), 0)
    if sample_rate <= 0:
        print(f"espeak_Initialize failed ({sample_rate})", file=sys.stderr)
        return _EXIT_UNAVAILABLE

    chunks: list[bytes] = []
    callback_type = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
    )

    def on_audio(wav: ctypes._Pointer[ctypes.c_short], n: int, _events: int | None) -> int:
        if wav and n > 0:
            chunks.append(ctypes.string_at(wav, n * 2))
        return 0

    callback = callback_type(on_audio)  # kept referenced until synthesis is over
    lib.espeak_SetSynthCallback(callback)
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        print(f"unknown voice {voice!r}", file=sys.stderr)
        return _EXIT_UNKNOWN_VOICE
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter(1, max(80, min(450, rate_wpm)), 0)  # espeakRATE, absolute

    data = text.encode("utf-8")
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    # position 0, POS_CHARACTER = 1, end 0, espeakCHARS_UTF8 = 1
    status = lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 1, None, None)
    lib.espeak_Synchronize()
    if status != 0 or not chunks:
        print(f"espeak_Synth produced no audio (status {status})", file=sys.stderr)
        return _EXIT_NO_AUDIO
    samples = np.frombuffer(b"".join(chunks), dtype="<i2")
    write_wav(out, samples, sample_rate)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vidspec.backends.preview.speech", description="Speak stdin into a WAV."
    )
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--voice", default=_DEFAULT_VOICE)
    parser.add_argument("--rate", type=int, default=165)
    args = parser.parse_args(argv)
    text = sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        return _child(text, args.out, args.voice, args.rate)
    except (ImportError, OSError, RuntimeError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return _EXIT_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
