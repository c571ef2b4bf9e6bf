"""The fake's media helpers."""

from __future__ import annotations

import io
import wave

from vidspec.testing.fake_media import tone_wav


def test_wav_helper_roundtrip() -> None:
    data = tone_wav(1.5)
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() == round(1.5 * 22050)
