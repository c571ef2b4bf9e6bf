"""What the fake accepts: request bodies and input URIs, refused with a 400 like the API."""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.fake_runway.calls import T2V
from vidspec.testing import FakeRunway
from vidspec.testing.fake_runway.schemas import (
    ENDPOINT_MODELS,
    Ctx,
    Invalid,
    check_create,
    check_upload,
    resolve_uri,
)


@pytest.mark.parametrize(
    ("endpoint", "body", "needle"),
    [
        ("text_to_video", {**T2V, "promptTxt": "x"}, "promptTxt"),
        ("text_to_video", {**T2V, "audio": False}, "audio"),  # audio is Veo-only
        ("text_to_video", {**T2V, "ratio": "1104:832"}, "ratio"),
        ("text_to_video", {**T2V, "duration": 11}, "duration"),
        ("text_to_video", {**T2V, "duration": "5"}, "duration"),
        ("text_to_video", {**T2V, "model": "veo3.1", "duration": 5}, "duration"),
        ("text_to_video", {**T2V, "model": "gen4_turbo"}, "model"),
        ("text_to_video", {k: v for k, v in T2V.items() if k != "promptText"}, "promptText"),
        ("text_to_video", {**T2V, "promptText": "😀" * 501}, "promptText"),
        ("image_to_video", {**T2V, "model": "gen4_turbo", "duration": 11, "promptImage": "https://x.io/a.png"},
         "duration"),
        ("image_to_video", {**T2V, "model": "gen4_turbo", "duration": 1, "promptImage": "https://x.io/a.png"},
         "duration"),
        ("image_to_video", {**T2V, "promptImage": "http://x.io/a.png"}, "promptImage"),
        ("image_to_video", {**T2V, "promptImage": "data:video/mp4;base64,AAAA"}, "promptImage"),
        ("image_to_video", {**T2V, "promptImage": [{"uri": "https://x.io/a.png", "position": "last"}]},
         "position"),
        ("image_to_video", {**T2V, "promptImage": "runway://uploads/nope"}, "promptImage"),
        ("text_to_image", {"model": "gen4_image_turbo", "promptText": "x", "ratio": "1280:720"}, "referenceImages"),
        ("text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "1280:720",
                           "referenceImages": [{"uri": "https://x.io/a.png", "tag": "1bad"}]}, "tag"),
        ("text_to_speech", {"model": "eleven_multilingual_v2", "promptText": "hi",
                            "voice": {"type": "runway-preset", "presetId": "Nobody"}}, "presetId"),
        ("sound_effect", {"model": "eleven_text_to_sound_v2", "promptText": "x", "duration": 31}, "duration"),
        ("voice_dubbing", {"model": "eleven_voice_dubbing", "audioUri": "https://x.io/a.wav", "targetLang": "xx"},
         "targetLang"),
    ],
)  # fmt: skip
def test_strict_validation(
    client: httpx.Client, fake: FakeRunway, endpoint: str, body: dict[str, Any], needle: str
) -> None:
    r = client.post(f"/v1/{endpoint}", json=body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]
    assert fake.create_count() == 0


def test_prompt_limit_counts_utf16_and_data_uri_limit(client: httpx.Client) -> None:
    assert client.post("/v1/text_to_video", json={**T2V, "promptText": "😀" * 500}).status_code == 200
    big = "data:image/png;base64," + base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1)).decode()
    r = client.post("/v1/image_to_video", json={**T2V, "promptImage": big})
    assert r.status_code == 400 and "5 MB" in r.json()["error"]


# ---- the schemas themselves, without a server ---------------------------------------------------------

IMG = "https://x.io/a.png"
VALID: dict[tuple[str, str], dict[str, Any]] = {
    ("text_to_video", "gen4.5"): T2V,
    ("text_to_video", "veo3.1"): {"model": "veo3.1", "promptText": "p", "ratio": "1080:1920", "duration": 8},
    ("text_to_video", "veo3.1_fast"): {"model": "veo3.1_fast", "promptText": "p", "ratio": "1920:1080",
                                       "duration": 4, "audio": False},
    ("image_to_video", "gen4.5"): {**T2V, "ratio": "1584:672", "promptImage": IMG},
    ("image_to_video", "gen4_turbo"): {"model": "gen4_turbo", "ratio": "960:960", "duration": 5,
                                       "promptImage": [{"uri": IMG, "position": "first"}]},
    ("image_to_video", "veo3.1"): {"model": "veo3.1", "ratio": "720:1280", "duration": 6,
                                   "promptImage": [{"uri": IMG, "position": "first"}, {"uri": IMG, "position": "last"}]},
    ("image_to_video", "veo3.1_fast"): {"model": "veo3.1_fast", "ratio": "1280:720", "duration": 4, "promptImage": IMG},
    ("video_to_video", "gen4_aleph"): {"model": "gen4_aleph", "videoUri": "https://x.io/v.mp4", "promptText": "snow"},
    ("video_to_video", "aleph2"): {"model": "aleph2", "videoUri": "https://x.io/v.mp4",
                                   "keyframes": [{"seconds": 1, "uri": IMG}, {"at": 0.5, "uri": IMG}]},
    ("character_performance", "act_two"): {"model": "act_two", "character": {"type": "image", "uri": IMG},
                                           "reference": {"type": "video", "uri": "https://x.io/r.mp4"}},
    ("text_to_image", "gen4_image"): {"model": "gen4_image", "promptText": "x", "ratio": "720:720",
                                      "referenceImages": [{"uri": IMG, "tag": "door"}]},
    ("text_to_image", "gen4_image_turbo"): {"model": "gen4_image_turbo", "promptText": "x", "ratio": "1920:1080",
                                            "referenceImages": [{"uri": IMG}]},
    ("text_to_speech", "eleven_multilingual_v2"): {"model": "eleven_multilingual_v2", "promptText": "hi",
                                                   "voice": {"type": "runway-preset", "presetId": "Rachel"}},
    ("sound_effect", "eleven_text_to_sound_v2"): {"model": "eleven_text_to_sound_v2", "promptText": "rain",
                                                  "duration": 0.5, "loop": True},
    ("voice_dubbing", "eleven_voice_dubbing"): {"model": "eleven_voice_dubbing", "audioUri": "https://x.io/a.wav",
                                                "targetLang": "fil"},
}  # fmt: skip


def test_every_model_has_a_schema_and_a_valid_body() -> None:
    assert sorted(VALID) == sorted((e, m) for e, ms in ENDPOINT_MODELS.items() for m in ms)
    for (endpoint, model), body in VALID.items():
        ctx = Ctx({})
        assert check_create(endpoint, body, ctx) == model
        assert ctx.assets or endpoint in ("text_to_video", "text_to_speech", "sound_effect")
        assert all(a.data is None and a.uri.startswith("https://") for a in ctx.assets.values())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**T2V, "ratio": "1920:1080"}, "ratio: Invalid value '1920:1080', expected one of '1280:720', '720:1280'"),
        ({**T2V, "duration": 1}, "duration: must be between 2 and 10, got 1"),
        ({**T2V, "duration": 2.5}, "duration: Expected integer, received 2.5"),
        ({**T2V, "duration": True}, "duration: Expected integer, received True"),
        ({**T2V, "negativePrompt": "x"}, "Unrecognized key(s) in object: 'negativePrompt'"),
        ({**T2V, "contentModeration": {"x": 1}}, "Unrecognized key(s) in object contentModeration: 'x'"),
        ({k: v for k, v in T2V.items() if k != "ratio"}, "ratio: Required"),
        ({**T2V, "model": "gen4_aleph"}, "model: Invalid value 'gen4_aleph', expected one of gen4.5, veo3.1, veo3.1_fast"),
        ([T2V], "body: Expected object"),
    ],
)  # fmt: skip
def test_a_wrong_body_is_refused_naming_the_field(body: Any, message: str) -> None:
    with pytest.raises(Invalid) as info:
        check_create("text_to_video", body, Ctx({}))
    assert str(info.value) == message


def test_veo_durations_are_a_list_not_a_range() -> None:
    veo = VALID[("text_to_video", "veo3.1")]
    assert check_create("text_to_video", {**veo, "duration": 6.0}, Ctx({})) == "veo3.1"
    for duration in (5, 7, 10):
        with pytest.raises(Invalid, match="duration: Invalid value"):
            check_create("text_to_video", {**veo, "duration": duration}, Ctx({}))


def test_input_uris() -> None:
    asset = resolve_uri("https://x.io/dir/a.png", "image", "promptImage", {})
    assert (asset.family, asset.data, asset.suffix) == ("image", None, ".png")
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()
    assert resolve_uri(png, "image", "p", {}).data == b"\x89PNG"
    upload = {"runway://uploads/1": {"filename": "r.mp4", "family": "video", "data": b"v"}}
    assert resolve_uri("runway://uploads/1", "video", "p", upload).suffix == ".mp4"
    for uri, family, needle in [
        ("http://x.io/a.png", "image", "must be an HTTPS URL"),
        ("https://", "image", "invalid URL"),
        (png, "video", "expected a data URI of video/*"),
        ("data:image/png;base64,@@", "image", "invalid base64"),
        ("data:image/png,abc", "image", "malformed data URI"),
        ("runway://uploads/1", "image", "expected an image upload"),
        ("runway://uploads/2", "video", "unknown or incomplete upload"),
    ]:
        with pytest.raises(Invalid, match=needle):
            resolve_uri(uri, family, "p", upload)


def test_upload_bodies() -> None:
    check_upload({"filename": "a.mp4", "type": "ephemeral"})
    for body, needle in [
        ({"filename": "a.mp4"}, "type: Required"),
        ({"filename": "a.mp4", "type": "permanent"}, "type: Invalid value"),
        ({"filename": "a.mp4", "type": "ephemeral", "size": 1}, "Unrecognized key"),
        ("a.mp4", "body: Expected object"),
    ]:
        with pytest.raises(Invalid, match=needle):
            check_upload(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [({**T2V, "ratio": "960:960"}, "ratio"), ({**T2V, "duration": 12}, "duration"), ({**T2V, "loop": True}, "loop")],
)  # fmt: skip
def test_a_refusal_has_the_api_error_shape(
    client: httpx.Client, fake: FakeRunway, body: dict[str, Any], field: str
) -> None:
    r = client.post("/v1/text_to_video", json=body)
    assert r.status_code == 400 and r.headers["Content-Type"] == "application/json"
    error = r.json()
    assert set(error) == {"error", "issues"}
    assert error["error"].startswith("Validation of body failed: ") and field in error["error"]
    assert [set(issue) for issue in error["issues"]] == [{"code", "path", "message"}]
    assert error["issues"][0]["path"] == ([] if field == "loop" else [field])  # an unknown key: the object's
    assert error["error"].endswith(error["issues"][0]["message"])
    assert fake.create_count() == 0 and fake.credit_balance() == 100_000


def test_what_it_accepts_is_its_own_table() -> None:
    # Independent of the catalogue, so that sending the catalogue's requests to the fake checks the catalogue.
    code = "import sys, vidspec.testing.fake_runway\nprint(sorted(m for m in sys.modules if m.startswith('vidspec.core')))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_gen4_turbo_takes_any_whole_duration_from_2_to_10() -> None:
    turbo = VALID[("image_to_video", "gen4_turbo")]
    for duration in (2, 3, 7, 10, 4.0):
        assert check_create("image_to_video", {**turbo, "duration": duration}, Ctx({})) == "gen4_turbo"
    for duration in (1, 11, 2.5, "3"):
        with pytest.raises(Invalid, match="duration: "):
            check_create("image_to_video", {**turbo, "duration": duration}, Ctx({}))


@pytest.mark.parametrize(
    ("endpoint", "body", "code", "path"),
    [
        ("text_to_video", {**T2V, "duration": 12}, "too_big", ["duration"]),
        ("text_to_video", {**T2V, "duration": "5"}, "invalid_type", ["duration"]),
        ("text_to_video", {**T2V, "ratio": "960:960"}, "invalid_enum_value", ["ratio"]),
        ("text_to_video", {k: v for k, v in T2V.items() if k != "promptText"}, "invalid_type", ["promptText"]),
        ("text_to_video", {**T2V, "loop": True}, "unrecognized_keys", []),
        ("text_to_video", {**T2V, "model": "nope"}, "invalid_enum_value", ["model"]),
        ("image_to_video", {**VALID[("image_to_video", "gen4_turbo")],
                            "promptImage": [{"uri": "http://x.io/a.png", "position": "first"}]},
         "custom", ["promptImage", 0, "uri"]),
        ("text_to_image", {**VALID[("text_to_image", "gen4_image")],
                           "referenceImages": [{"uri": IMG, "tag": "ok_tag"}, {"uri": IMG, "tag": "1x"}]},
         "invalid_string", ["referenceImages", 1, "tag"]),
        ("text_to_speech", {**VALID[("text_to_speech", "eleven_multilingual_v2")],
                            "voice": {"type": "runway-preset", "presetId": "Nobody"}},
         "invalid_enum_value", ["voice", "presetId"]),
    ],
)  # fmt: skip
def test_a_refusal_names_its_wire_path_as_the_api_does(
    client: httpx.Client, endpoint: str, body: dict[str, Any], code: str, path: list[object]
) -> None:
    with pytest.raises(Invalid) as info:
        check_create(endpoint, body, Ctx({}))
    assert (info.value.code, info.value.path) == (code, path)
    r = client.post(f"/v1/{endpoint}", json=body)
    assert r.status_code == 400
    assert r.json()["issues"] == [{"code": code, "path": path, "message": str(info.value)}]
