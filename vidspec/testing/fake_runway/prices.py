"""The fake's own price table: credits per task.

Deliberately independent of ``vidspec.core.pricing``, so that tests cross-check the two.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def fake_credits(endpoint: str, model: str, body: Mapping[str, Any], seconds: float) -> int:
    """Credits for one task. `seconds` is the output (or input video / audio) length."""

    def up(x: float) -> int:
        return max(0, math.ceil(x - 1e-9))

    per_second = {"gen4.5": 12, "gen4_turbo": 5, "gen4_aleph": 15, "aleph2": 28, "act_two": 5}
    if model in per_second:
        return up(per_second[model] * seconds)
    if model in ("veo3.1", "veo3.1_fast"):
        rate = {True: 40, False: 20} if model == "veo3.1" else {True: 15, False: 10}
        return up(rate[bool(body.get("audio", True))] * seconds)
    if model == "gen4_image":
        return 5 if min(int(x) for x in str(body["ratio"]).split(":")) == 720 else 8
    if model == "gen4_image_turbo":
        return 2
    if model == "eleven_multilingual_v2":
        return up(len(str(body["promptText"])) / 50)
    if model == "eleven_text_to_sound_v2":
        return up(float(body.get("duration", 5)) / 6)
    if model == "eleven_voice_dubbing":
        return up(seconds / 2)
    raise ValueError(f"no price for {model}")
