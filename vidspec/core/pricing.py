"""Credits for one request, from its catalogue row. A price is an estimate; the task's cost is the truth."""

from __future__ import annotations

import math

from vidspec.core.catalog import ModelRow, is_1080p

USD_PER_CREDIT = 0.01
WORDS_PER_MINUTE = 150  # plan-time narration estimate; the stitcher uses the measured length


def credits(
    row: ModelRow,
    *,
    seconds: float | None = None,
    ratio: str | None = None,
    audio: bool = True,
    chars: int | None = None,
) -> int:
    p = row.price
    if p.unit == "second":
        rate = p.credits if audio or p.credits_alt is None else p.credits_alt
        return math.ceil(rate * (seconds or 0.0) - 1e-9)
    if p.unit == "image":
        if p.credits_alt is not None and ratio is not None and is_1080p(ratio):
            return p.credits_alt
        return p.credits
    if p.unit == "chars":
        return math.ceil((chars or 0) / p.block) * p.credits
    return math.ceil((seconds or 0.0) / p.block - 1e-9) * p.credits


def estimate_speech_seconds(text: str, wpm: int = WORDS_PER_MINUTE) -> float:
    """Words at `wpm` words per minute, at least one second."""
    words = len(text.split())
    return max(1.0, words * 60.0 / wpm)


def usd(credit_count: float) -> float:
    return round(credit_count * USD_PER_CREDIT, 2)
