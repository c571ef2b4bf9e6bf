"""The request builder: the wire body of each endpoint kind, written from the catalogue's wire names.
A new wire field is one entry in that table; the body's inputs are whatever the caller resolves them to."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from vidspec.core import catalog as cat
from vidspec.core.graph import REQUEST_FIELDS, Asset, AssetRef, FileRef, Input, Reference
from vidspec.core.keys import canonical_body
from vidspec.core.requests import SHAPES, field_of, request_body, sent_fields

IMG = FileRef("image", path=Path("/p/bowl.jpg"))
LOGO = FileRef("image", path=Path("/p/logo.png"))
URL = FileRef("image", url="https://example.com/x.png")
CLIP = FileRef("video", path=Path("/p/street.mp4"))


def uri(ref: Input) -> str:
    """A stand-in for an uploaded input's URI, naming what it stands for."""
    if isinstance(ref, AssetRef):
        return f"<{ref.media} from {ref.name}>"
    return f"<{ref.media} {ref.path}>" if ref.path is not None else str(ref.url)


def asset(model: str, endpoint: str, **fields: Any) -> Asset:
    row = cat.row(model, endpoint)
    assert row is not None
    return Asset("s.x", "s", 0, "video", row, 1, 5.0, **fields)


def test_text_to_video() -> None:
    a = asset("gen4.5", "text_to_video", prompt="Waves", ratio="1280:720", duration=5, seed=7,
              public_figure_threshold="low")  # fmt: skip
    assert request_body(a, uri) == {
        "model": "gen4.5", "promptText": "Waves", "ratio": "1280:720", "duration": 5, "seed": 7,
        "contentModeration": {"publicFigureThreshold": "low"},
    }  # fmt: skip


def test_image_to_video_first_frame_is_a_bare_uri_a_last_frame_a_positioned_list() -> None:
    a = asset("veo3.1", "image_to_video", prompt="Dusk", image=IMG, ratio="1280:720", duration=8, audio=False)
    body = request_body(a, uri)
    assert body == {
        "model": "veo3.1", "promptText": "Dusk", "promptImage": "<image /p/bowl.jpg>", "ratio": "1280:720",
        "duration": 8, "audio": False,
    }  # fmt: skip
    last = dataclasses.replace(a, image=AssetRef("s.image", "image"), image_position="last")
    assert request_body(last, uri)["promptImage"] == [{"uri": "<image from s.image>", "position": "last"}]


def test_video_to_video() -> None:
    a = asset("aleph2", "video_to_video", prompt="Watercolour", video=CLIP, references=(Reference(LOGO),))
    assert request_body(a, uri) == {
        "model": "aleph2", "promptText": "Watercolour", "videoUri": "<video /p/street.mp4>",
        "references": [{"type": "image", "uri": "<image /p/logo.png>"}],
    }  # fmt: skip


def test_character_performance_says_each_inputs_kind() -> None:
    a = asset("act_two", "character_performance", character=CLIP, performance=CLIP, ratio="960:960")
    assert request_body(a, uri) == {
        "model": "act_two", "character": {"type": "video", "uri": "<video /p/street.mp4>"},
        "reference": {"type": "video", "uri": "<video /p/street.mp4>"}, "ratio": "960:960",
    }  # fmt: skip
    still = dataclasses.replace(a, character=IMG)
    assert request_body(still, uri)["character"] == {"type": "image", "uri": "<image /p/bowl.jpg>"}


def test_text_to_image_tags_only_the_tagged_references() -> None:
    a = asset("gen4_image", "text_to_image", prompt="A jar @brand", ratio="1280:720", seed=3,
              references=(Reference(LOGO, "brand"), Reference(URL)), public_figure_threshold="auto")  # fmt: skip
    assert request_body(a, uri) == {
        "model": "gen4_image", "promptText": "A jar @brand", "ratio": "1280:720",
        "referenceImages": [{"uri": "<image /p/logo.png>", "tag": "brand"}, {"uri": "https://example.com/x.png"}],
        "seed": 3, "contentModeration": {"publicFigureThreshold": "auto"},
    }  # fmt: skip


def test_speech_sound_and_dubbing() -> None:
    speech = asset("eleven_multilingual_v2", "text_to_speech", prompt="Hello.", voice="Maya")
    assert request_body(speech, uri) == {
        "model": "eleven_multilingual_v2", "promptText": "Hello.",
        "voice": {"type": "runway-preset", "presetId": "Maya"},
    }  # fmt: skip
    sound = asset("eleven_text_to_sound_v2", "sound_effect", prompt="Rain", duration=3.0, loop=True)
    assert request_body(sound, uri) == {
        "model": "eleven_text_to_sound_v2", "promptText": "Rain", "duration": 3.0, "loop": True,
    }  # fmt: skip
    dub = asset(
        "eleven_voice_dubbing", "voice_dubbing", narration=AssetRef("s.narration", "audio"), language="fr"
    )
    assert request_body(dub, uri) == {
        "model": "eleven_voice_dubbing", "audioUri": "<audio from s.narration>", "targetLang": "fr",
    }  # fmt: skip


def test_every_endpoint_has_wire_names_for_asset_fields_only() -> None:
    assert set(cat.WIRE_NAMES) == {r.endpoint for r in (*cat.CATALOG, cat.FOOTAGE_ROW)}
    for endpoint, names in cat.WIRE_NAMES.items():
        assert set(names) <= set(REQUEST_FIELDS), endpoint
        assert len(set(names.values())) == len(names), endpoint
    assert set(SHAPES) <= {w for names in cat.WIRE_NAMES.values() for w in names.values()}


def test_a_wire_name_means_one_field_on_every_endpoint() -> None:
    """So a lockfile's wire field can be named in a plan's words, whatever endpoint wrote it."""
    for names in cat.WIRE_NAMES.values():
        for name, wire in names.items():
            assert field_of(wire) == name
    assert field_of("model") == "model"
    a = asset("veo3.1", "image_to_video", image=IMG, duration=8, audio=True)
    assert sent_fields(a) == {
        "model": "model",
        "promptImage": "image",
        "duration": "duration",
        "audio": "audio",
    }


def test_a_new_wire_field_is_one_table_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    sound = asset("eleven_text_to_sound_v2", "sound_effect", prompt="Rain", duration=3.0, seed=9)
    with pytest.raises(ValueError, match="no wire name for seed"):  # set but unnamed: never dropped silently
        request_body(sound, uri)
    monkeypatch.setitem(cat.WIRE_NAMES, "sound_effect", {**cat.WIRE_NAMES["sound_effect"], "seed": "seed"})
    assert request_body(sound, uri) == {
        "model": "eleven_text_to_sound_v2", "promptText": "Rain", "duration": 3.0, "seed": 9,
    }  # fmt: skip


def test_the_resolver_is_asked_for_inputs_only() -> None:
    asked: list[Input] = []

    def spy(ref: Input) -> str:
        asked.append(ref)
        return "u"

    a = asset(
        "gen4_image",
        "text_to_image",
        prompt="p",
        ratio="1280:720",
        references=(Reference(LOGO), Reference(URL)),
    )
    request_body(a, spy)
    assert asked == [LOGO, URL]


def test_a_key_hashes_the_same_body_with_inputs_as_their_content() -> None:
    a = asset("gen4_turbo", "image_to_video", prompt="Steam", image=IMG, ratio="1280:720", duration=5)
    made = dataclasses.replace(a, image=AssetRef("s.image", "image"))
    digest = {IMG.path: "sha256:abc"}
    assert canonical_body(a, digest.__getitem__, {}) == {
        **request_body(a, uri), "promptImage": {"file": "sha256:abc", "kind": "image"},
    }  # fmt: skip
    assert canonical_body(made, digest.__getitem__, {"s.image": "sha256:def"})["promptImage"] == {
        "asset": "sha256:def"
    }
    url = dataclasses.replace(a, image=URL)
    assert canonical_body(url, digest.__getitem__, {})["promptImage"] == "https://example.com/x.png"
