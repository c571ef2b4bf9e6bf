"""Credits per model match the price table in shared/runway-api.md, asset by asset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidspec.core import catalog as cat
from vidspec.core.pricing import credits, estimate_speech_seconds
from vidspec.core.validate import validate_text


def row(model: str, endpoint: str) -> cat.ModelRow:
    r = cat.row(model, endpoint)
    assert r is not None
    return r


@pytest.mark.parametrize(
    ("model", "endpoint", "seconds", "audio", "expected"),
    [
        ("gen4.5", "text_to_video", 5, True, 60),
        ("gen4.5", "image_to_video", 10, True, 120),
        ("gen4.5", "text_to_video", 2, True, 24),
        ("gen4_turbo", "image_to_video", 5, True, 25),
        ("gen4_turbo", "image_to_video", 10, True, 50),
        ("veo3.1", "text_to_video", 8, True, 320),
        ("veo3.1", "text_to_video", 8, False, 160),
        ("veo3.1_fast", "image_to_video", 4, True, 60),
        ("veo3.1_fast", "text_to_video", 6, False, 60),
        ("gen4_aleph", "video_to_video", 4.2, True, 63),
        ("act_two", "character_performance", 7, True, 35),
    ],
)
def test_video_prices(model: str, endpoint: str, seconds: float, audio: bool, expected: int) -> None:
    assert credits(row(model, endpoint), seconds=seconds, audio=audio) == expected


def test_image_prices_by_resolution() -> None:
    assert credits(row("gen4_image", "text_to_image"), ratio="1280:720") == 5
    assert credits(row("gen4_image", "text_to_image"), ratio="720:720") == 5
    assert credits(row("gen4_image", "text_to_image"), ratio="1920:1080") == 8
    assert credits(row("gen4_image", "text_to_image"), ratio="1024:1024") == 8
    assert credits(row("gen4_image_turbo", "text_to_image"), ratio="1920:1080") == 2


def test_audio_prices_round_up() -> None:
    tts = row("eleven_multilingual_v2", "text_to_speech")
    assert credits(tts, chars=50) == 1
    assert credits(tts, chars=51) == 2
    sfx = row("eleven_text_to_sound_v2", "sound_effect")
    assert credits(sfx, seconds=3) == 1
    assert credits(sfx, seconds=6) == 1
    assert credits(sfx, seconds=6.5) == 2
    dub = row("eleven_voice_dubbing", "voice_dubbing")
    assert credits(dub, seconds=4) == 2
    assert credits(dub, seconds=4.2) == 3


def test_speech_estimate_is_150_words_a_minute() -> None:
    assert estimate_speech_seconds("one two three four five") == pytest.approx(2.0)
    assert estimate_speech_seconds("hi") == 1.0


def test_plan_of_the_hawker_example_matches_the_table(tmp_path: Path) -> None:
    from tests.helpers import copy_examples  # never a user's lockfile or ledger beside the example
    from vidspec.app.views.plan import plan_json
    from vidspec.app.workspace import Workspace

    ws = Workspace.open(copy_examples(tmp_path / "ex") / "hawker-noodles.yaml", cache_dir=tmp_path / "cache")
    data = plan_json(ws.plan())
    got = {a["name"]: (a["model"], a["credits"]) for s in data["scenes"] for a in s["assets"]}
    assert got == {
        "opening.video": ("gen4.5", 60),  # 12/s x 5 s
        "opening.narration": ("eleven_multilingual_v2", 1),  # 39 chars
        "bowl.video": ("gen4.5", 60),
        "bowl.narration": ("eleven_multilingual_v2", 1),
        "jar.image": ("gen4_image", 5),  # 1280:720 is 720p
        "jar.video": ("gen4_turbo", 25),  # 5/s x 5 s
        "jar.sfx": ("eleven_text_to_sound_v2", 1),  # 3 s
        "closing.video": ("gen4.5", 60),
        "closing.narration": ("eleven_multilingual_v2", 1),
    }
    assert data["total_credits"] == 214
    assert data["to_spend_credits"] == 214
    assert data["usd"] == 2.14
    assert data["within_budget"] is True
    assert json.loads(json.dumps(data)) == data


def test_veo_without_audio_and_dub_are_priced() -> None:
    spec = """
version: 1
dub: {language: fr}
scenes:
  - id: a
    model: veo3.1
    duration: 8
    audio: false
    prompt: "Waves roll onto a black sand beach, low tracking shot"
    narration: "The tide always comes back, and so do we, every single summer without fail."
"""
    v = validate_text(spec)
    assert v.ok, [d.message for d in v.diagnostics]
    assert v.graph is not None
    by = {a.name: a for a in v.graph.assets}
    assert by["a.video"].credits == 160
    assert by["a.video"].audio is False
    text = "The tide always comes back, and so do we, every single summer without fail."
    assert by["a.narration"].credits == -(-len(text) // 50)
    words = len(text.split())
    assert by["a.dub"].credits == -(-int(words * 60 / 150 * 1000) // 2000)
