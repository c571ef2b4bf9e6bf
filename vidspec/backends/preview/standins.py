"""Local stand-in media for the free "preview" backend.

Each renderer produces the file the paid backend would have generated (same duration, size and
timing) from local means only: Pillow cards, one ffmpeg process per video, espeak-ng or a tone for
speech, numpy noise for sound effects. They know nothing about the spec. Every output is written
atomically (a temp file in the same directory, then ``os.replace``), so an interrupted build never
leaves a half-written asset that looks finished.
"""

from __future__ import annotations

import math
import random
import tempfile
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from vidspec.backends.preview import speech
from vidspec.backends.preview.speech import atomic_path, write_wav
from vidspec.core.pricing import estimate_speech_seconds
from vidspec.errors import StandinError, WriteError
from vidspec.media.drawing import cards
from vidspec.media.probe import ffmpeg_exe, ffmpeg_write_error, run_child

# How far the card zooms in and the reference image pushes in over the clip (fraction of the frame).
CARD_ZOOM = 0.08
KEN_BURNS_ZOOM = 0.14
AUDIO_RATE = 48000


def _even(n: int) -> int:
    # yuv420p needs even dimensions; round down, never below 2.
    return max(2, int(n) // 2 * 2)


def _run_ffmpeg(args: list[str], what: str) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    proc = run_child(cmd, capture_output=True, text=True, errors="replace")
    full = ffmpeg_write_error(proc.returncode, proc.stderr)
    if full is not None:  # the output is the last argument
        raise WriteError(args[-1], full)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise StandinError(f"ffmpeg failed to render {what} (exit {proc.returncode}): {tail}")


def _cover(img: Image.Image, width: int, height: int) -> Image.Image:
    """Scale and centre-crop to fill width x height exactly (no letterboxing)."""
    return ImageOps.fit(img.convert("RGB"), (width, height), Image.Resampling.LANCZOS)


def _load_image(path: Path) -> Image.Image | None:
    try:
        with Image.open(path) as im:
            im.load()
            return ImageOps.exif_transpose(im) or im
    except (OSError, ValueError):
        return None


def _motion_graph(
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    zoom: float,
    pan: tuple[float, float],
    band: bool,
    audio: bool,
    seed: int,
) -> str:
    """The filter graph: input 0 (the still, ``1 + zoom`` times the frame) zoomed and panned, a
    timeline bar, optionally input 1 (a static RGBA band) on top and an ambient audio bed.

    The still is decoded once and repeated by the ``loop`` filter (decoding the PNG per frame with
    ``-loop 1`` measured 3x slower). A per-frame ``scale`` takes it from 1x to ``1+zoom`` of the
    frame and ``overlay`` centres it on a frame-sized canvas. ``crop`` cannot do this: it clamps to
    the first frame's size, which pins the zoom to the top-left corner.
    """
    dur = frames / fps
    p = f"(t/{dur:.6f})"  # progress 0 -> 1 over the clip
    sw = f"2*trunc({width}*(1+{zoom:.5f}*{p})/2)"
    sh = f"2*trunc({height}*(1+{zoom:.5f}*{p})/2)"
    # Pan within the margin the zoom has opened, so the frame is always covered.
    x = f"{width}/2-({sw})/2+{pan[0]:.4f}*(({sw})-{width})/2"
    y = f"{height}/2-({sh})/2+{pan[1]:.4f}*(({sh})-{height})/2"
    bar_h = max(2, height // 90)
    parts = [
        f"color=c=black:s={width}x{height}:r={fps}[bg]",
        f"[0:v]format=yuv420p,loop=loop=-1:size=1,setpts=N/({fps}*TB),"
        f"scale=w='{sw}':h='{sh}':eval=frame:flags=bilinear[z]",
        f"[bg][z]overlay=x='{x}':y='{y}':eval=frame[m]",
    ]
    last = "m"
    if band:
        parts.append(f"[{last}][1:v]overlay=0:0[b]")
        last = "b"
    parts.append(
        f"[{last}]drawbox=x=0:y=ih-{bar_h}:w=iw:h={bar_h}:color=black@0.55:t=fill[t]",
    )
    parts.append(f"color=c=0xF0F0F5:s={width}x{bar_h}:r={fps}[bar]")
    # The bar fills the width by the last frame: x goes from -W (hidden) to 0.
    parts.append(
        f"[t][bar]overlay=x='-{width}+{width}*(n+1)/{frames}':y={height - bar_h}:eval=frame,format=yuv420p[v]"
    )
    if audio:
        rng = random.Random(seed)
        root = rng.choice([55.0, 61.74, 65.41, 73.42, 82.41])
        parts.append(
            f"anoisesrc=color=brown:amplitude=0.6:sample_rate={AUDIO_RATE}:seed={seed % 2**31}:duration={dur:.6f},"
            "lowpass=f=600,volume=0.10[n]"
        )
        parts.append(
            f"aevalsrc='0.010*sin(2*PI*{root}*t)*(0.7+0.3*sin(2*PI*0.21*t))"
            f"+0.006*sin(2*PI*{root * 1.5:.2f}*t)*(0.7+0.3*sin(2*PI*0.13*t+1))':"
            f"s={AUDIO_RATE}:d={dur:.6f}[d]"
        )
        fade = min(0.5, dur / 4)
        parts.append(
            f"[n][d]amix=inputs=2:normalize=0,afade=t=in:d={fade:.3f},"
            f"afade=t=out:st={dur - fade:.6f}:d={fade:.3f},aformat=channel_layouts=stereo[a]"
        )
    return ";".join(parts)


def render_video(
    out: Path,
    *,
    width: int,
    height: int,
    fps: int,
    duration: float,
    title: str,
    prompt: str,
    footer: list[str],
    seed: int,
    image: Path | None = None,
    audio: bool = False,
    preset: str = "ultrafast",
) -> None:
    """An H.264/yuv420p mp4 stand-in of exactly ``round(duration * fps)`` frames with visible motion.

    Without ``image``: the Pillow title card (title, prompt, footer) with a slow centred zoom.
    With a readable ``image``: that image cover-fitted with a slow Ken Burns push and a small band
    naming the scene. Both have a timeline bar filling along the bottom edge. ``audio`` adds a
    quiet ambient AAC bed (Veo-style models return clips with sound).
    """
    out = Path(out)
    width, height = _even(width), _even(height)
    if fps <= 0 or duration <= 0:
        raise ValueError(f"need fps > 0 and duration > 0, got fps={fps}, duration={duration}")
    frames = max(1, round(duration * fps))
    rng = random.Random(seed)

    ref = _load_image(Path(image)) if image is not None else None
    zoom = KEN_BURNS_ZOOM if ref is not None else CARD_ZOOM
    # The still is drawn at the zoom's end size so frames are downscaled from it, never blurred up.
    big_w, big_h = _even(math.ceil(width * (1 + zoom))), _even(math.ceil(height * (1 + zoom)))
    if ref is not None:
        still = _cover(ref, big_w, big_h)
        angle = rng.uniform(0, 2 * math.pi)
        pan = (0.8 * math.cos(angle), 0.8 * math.sin(angle))
    else:
        still = cards.title_card(
            big_w, big_h, title=title, body=prompt, footer_lines=footer, seed=seed, label="preview stand-in"
        )
        pan = (0.0, 0.0)

    with tempfile.TemporaryDirectory(prefix="vidspec-standin-") as tmpdir:
        still_path = Path(tmpdir) / "still.png"
        still.save(still_path, compress_level=1)  # fast write; the file lives for one ffmpeg run
        args = ["-i", str(still_path)]
        if ref is not None:
            band_path = Path(tmpdir) / "band.png"
            cards.caption_band(width, height, title, detail=prompt).save(band_path, compress_level=1)
            args += ["-i", str(band_path)]
        graph = _motion_graph(
            width=width,
            height=height,
            fps=fps,
            frames=frames,
            zoom=zoom,
            pan=pan,
            band=ref is not None,
            audio=audio,
            seed=seed,
        )
        args += ["-filter_complex", graph, "-map", "[v]"]
        if audio:
            args += ["-map", "[a]", "-c:a", "aac", "-b:a", "96k", "-ar", str(AUDIO_RATE)]
        args += ["-frames:v", str(frames), "-r", str(fps), "-c:v", "libx264", "-preset", preset]
        args += ["-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]
        with atomic_path(out) as tmp:
            _run_ffmpeg([*args, str(tmp)], f"video stand-in {out.name}")


def render_image(
    out: Path,
    *,
    width: int,
    height: int,
    prompt: str,
    seed: int,
    refs: list[Path] | None = None,
) -> None:
    """A PNG card of exactly width x height showing the prompt, with thumbnails of ``refs``."""
    out = Path(out)
    refs = list(refs or [])
    footer = [f"preview stand-in image · {width}x{height}"]
    if refs:
        footer.append(f"{len(refs)} reference image{'s' if len(refs) != 1 else ''}")
    # An unreadable reference still shows as a grey tile, so the count stays honest.
    thumbs = [_load_image(Path(p)) or Image.new("RGB", (4, 3), (90, 90, 98)) for p in refs]
    card = cards.title_card(
        width,
        height,
        title="Generated image",
        body=prompt,
        footer_lines=footer,
        seed=seed,
        label="preview stand-in",
        thumbnails=thumbs,
    )
    with atomic_path(out) as tmp:
        card.save(tmp, format="PNG")


def render_speech(
    out: Path,
    text: str,
    *,
    voice: str,
    min_duration: float = 0.0,
) -> tuple[float, str | None]:
    """Narration WAV via offline espeak-ng; returns (duration, notice or None).

    A voice espeak-ng does not know (e.g. a cloud voice name) falls back to en-us with a notice.
    If speech cannot run at all, the WAV is a tone of the estimated length. Either way the audio is
    padded with silence to at least ``min_duration``.
    """
    out = Path(out)
    notice: str | None = None
    try:
        try:
            speech.synthesize(text, out, voice=voice)
        except speech.UnknownVoice:
            speech.synthesize(text, out, voice="en-us")
            notice = f"voice {voice!r} is not available offline; preview narration uses espeak-ng en-us"
    except (speech.SpeechUnavailable, ValueError) as exc:
        seconds = max(estimate_speech_seconds(text), min_duration)
        seed = sum(text.encode("utf-8")) % 997
        why = (
            "the narration text is empty"
            if isinstance(exc, ValueError)
            else f"offline speech unavailable ({exc})"
        )
        return speech.tone(out, seconds, seed=seed), f"{why}; narration is a tone of the estimated length"
    return _pad_wav(out, min_duration), notice


def _pad_wav(path: Path, min_duration: float) -> float:
    """Append silence so the WAV lasts at least ``min_duration``; returns the final duration."""
    with wave.open(str(path), "rb") as w:
        rate, n = w.getframerate(), w.getnframes()
        data = w.readframes(n)
    need = int(math.ceil(min_duration * rate))
    if need > n:
        samples = np.concatenate([np.frombuffer(data, dtype="<i2"), np.zeros(need - n, dtype="<i2")])
        write_wav(path, samples, rate)
        n = need
    return n / rate


def render_noise(out: Path, seconds: float, *, seed: int, volume_db: float = -30) -> None:
    """A pink-ish noise burst of exactly ``seconds`` (to the sample), RMS at ``volume_db`` dBFS, faded."""
    if seconds <= 0:
        raise ValueError(f"noise needs a positive length, got {seconds}")
    n = max(1, int(round(seconds * AUDIO_RATE)))
    gen = np.random.default_rng(seed)
    # Shape white noise by 1/sqrt(f) in the frequency domain: pink noise, softer than white hiss.
    spectrum = np.fft.rfft(gen.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / AUDIO_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    rms = float(np.sqrt(np.mean(noise**2))) or 1.0
    noise *= 10 ** (volume_db / 20.0) / rms
    k = min(n // 2, max(1, int(min(0.08, seconds / 5) * AUDIO_RATE)))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, k))
    noise[:k] *= ramp
    noise[n - k :] *= ramp[::-1]
    write_wav(Path(out), noise, AUDIO_RATE)
