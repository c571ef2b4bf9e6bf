"""Preview stand-ins: real media facts checked with the bundled ffmpeg (small sizes keep this fast)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidspec.backends.preview import speech, standins
from vidspec.media.drawing import cards
from vidspec.media.probe import ffmpeg_exe, mean_volume_db, probe

W, H, FPS = 320, 180, 24


def _frame(path: Path, t: float) -> np.ndarray:
    proc = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-ss", f"{t:.3f}", "-i", str(path)]
        + ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, dtype=np.uint8).reshape(H, W, 3)


def _wav_frames(path: Path) -> tuple[int, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.getnframes(), w.getframerate()


def _reference_png(path: Path) -> Path:
    rgb = np.zeros((120, 200, 3), dtype=np.uint8)
    rgb[..., 0] = np.linspace(0, 255, 200, dtype=np.uint8)[None, :]
    rgb[..., 1] = np.linspace(0, 255, 120, dtype=np.uint8)[:, None]
    rgb[40:80, 80:120] = 255
    Image.fromarray(rgb).save(path)
    return path


def _assert_video(path: Path, duration: float, *, audio: bool) -> None:
    info = probe(path)
    assert (info.width, info.height, info.fps) == (W, H, FPS)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert abs(info.duration - duration) <= 1.0 / FPS
    assert info.has_audio is audio
    # Atomic write: nothing but the finished file is left in the directory.
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def _assert_motion(path: Path, t0: float, t1: float) -> None:
    a, b = _frame(path, t0).astype(np.int16), _frame(path, t1).astype(np.int16)
    assert np.abs(a - b).mean() > 0.5, "no visible motion between the two frames"


def test_card_video_has_exact_format_and_motion(tmp_path: Path) -> None:
    out = tmp_path / "scene.mp4"
    standins.render_video(
        out,
        width=W,
        height=H,
        fps=FPS,
        duration=1.5,
        title="Scene 1 — harbour",
        prompt="A slow aerial shot over a harbour at dawn, fishing boats, gulls",
        footer=["gen4_turbo · 1.5 s", "est. 8 credits"],
        seed=1,
    )
    _assert_video(out, 1.5, audio=False)
    _assert_motion(out, 0.1, 1.35)


def test_ken_burns_video_with_ambient_audio(tmp_path: Path) -> None:
    ref = _reference_png(tmp_path / "ref.png")
    out = tmp_path / "out" / "scene.mp4"
    out.parent.mkdir()
    standins.render_video(
        out,
        width=W,
        height=H,
        fps=FPS,
        duration=1.0,
        title="s2",
        prompt="the keeper climbs the stairs",
        footer=[],
        seed=7,
        image=ref,
        audio=True,
    )
    _assert_video(out, 1.0, audio=True)
    assert probe(out).audio_codec == "aac"
    assert -60.0 < mean_volume_db(out) < -20.0  # quiet, but there
    _assert_motion(out, 0.05, 0.9)


def test_unreadable_reference_falls_back_to_card(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "v" / "x.mp4"
    standins.render_video(
        out, width=W, height=H, fps=FPS, duration=0.5, title="t", prompt="p", footer=[], seed=0, image=bad
    )
    _assert_video(out, 0.5, audio=False)


def test_render_image_exact_size(tmp_path: Path) -> None:
    ref = _reference_png(tmp_path / "ref.png")
    out = tmp_path / "img" / "still.png"
    standins.render_image(
        out, width=300, height=400, prompt="a red kite over the dunes", seed=3, refs=[ref, ref]
    )
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (300, 400)
    standins.render_image(out, width=W, height=H, prompt="no refs", seed=3)
    with Image.open(out) as im:
        assert im.size == (W, H)


@pytest.mark.skipif(not speech.available(), reason="espeakng-loader not installed")
def test_speech_is_audible_and_plausibly_long(tmp_path: Path) -> None:
    text = "The keeper has lived on this island for forty years, alone with the sea."
    out = tmp_path / "narration.wav"
    seconds = speech.synthesize(text, out)
    frames, rate = _wav_frames(out)
    assert seconds == pytest.approx(frames / rate)
    words = len(text.split())
    assert 0.2 * words <= seconds <= 1.2 * words
    assert mean_volume_db(out) > -50.0


@pytest.mark.skipif(not speech.available(), reason="espeakng-loader not installed")
def test_render_speech_unknown_voice_and_padding(tmp_path: Path) -> None:
    out = tmp_path / "n.wav"
    seconds, notice = standins.render_speech(out, "Hello there.", voice="NotAVoice", min_duration=3.0)
    assert notice is not None and "NotAVoice" in notice
    frames, rate = _wav_frames(out)
    assert seconds == pytest.approx(3.0, abs=1.0 / rate) and frames == pytest.approx(3.0 * rate, abs=1)


def test_render_speech_falls_back_to_tone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> float:
        raise speech.SpeechUnavailable("test says no")

    monkeypatch.setattr(speech, "synthesize", broken)
    text = " ".join(["word"] * 10)
    out = tmp_path / "n.wav"
    seconds, notice = standins.render_speech(out, text, voice="en-us")
    assert notice is not None and notice.startswith("offline speech unavailable (test says no)")
    assert seconds == pytest.approx(standins.estimate_speech_seconds(text)) == pytest.approx(4.0)
    frames, rate = _wav_frames(out)
    assert frames == round(4.0 * rate)
    assert mean_volume_db(out) > -50.0


def test_estimate_speech_seconds() -> None:
    assert standins.estimate_speech_seconds("") == 1.0
    assert standins.estimate_speech_seconds("one two") == 1.0
    assert standins.estimate_speech_seconds(" ".join(["w"] * 300)) == pytest.approx(120.0)
    assert standins.estimate_speech_seconds(" ".join(["w"] * 30), wpm=180) == pytest.approx(10.0)


def test_noise_exact_length_quiet_not_silent(tmp_path: Path) -> None:
    out = tmp_path / "sfx.wav"
    standins.render_noise(out, 1.37, seed=5, volume_db=-30)
    frames, rate = _wav_frames(out)
    assert frames == round(1.37 * rate)
    assert -40.0 < mean_volume_db(out) < -25.0


def test_tone_exact_length(tmp_path: Path) -> None:
    out = tmp_path / "tone.wav"
    assert speech.tone(out, 2.25, seed=1) == pytest.approx(2.25, abs=1e-4)
    frames, rate = _wav_frames(out)
    assert frames == round(2.25 * rate)


@pytest.mark.parametrize("max_width", [40, 90, 200])
def test_wrap_text_never_exceeds_width(max_width: int) -> None:
    fnt = cards.font(16)
    text = "A supercalifragilisticexpialidocious lighthouse\nkeeper, alone — with the sea and gulls."
    lines = cards.wrap_text(text, fnt, max_width)
    assert lines and all(fnt.getlength(line) <= max_width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())  # nothing lost or duplicated


def test_caption_image_transparent_with_box() -> None:
    img = cards.caption_image("Welcome to the island, where the keeper lives alone.", W, H)
    assert img.mode == "RGBA" and img.size == (W, H)
    alpha = np.asarray(img)[..., 3]
    assert alpha[: H // 2].max() == 0  # top half untouched
    assert (alpha > 120).sum() > 500  # the translucent box and the opaque text
    assert alpha.max() == 255


def test_caption_lines_are_capped() -> None:
    text = " ".join(["caption"] * 60)
    _font, lines = cards._caption_layout(text, W, H, 2)
    assert len(lines) == 2 and lines[-1].endswith(cards.ELLIPSIS)
    _font, lines = cards._caption_layout("Short line.", W, H, 2)
    assert lines == ["Short line."]


def test_title_card_is_seeded() -> None:
    def card(seed: int) -> Image.Image:
        return cards.title_card(
            W, H, title="Scene", body="prompt " * 20, footer_lines=["model", "5 s"], seed=seed
        )

    a, b, c = card(1), card(1), card(2)
    assert a.size == (W, H) and a.mode == "RGB"
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
