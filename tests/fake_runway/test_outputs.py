"""What tasks produce (real media of the asked size and length) and what they cost."""

from __future__ import annotations

import base64
import wave
from pathlib import Path

import httpx

from tests.fake_runway.calls import create, download, wait, wav_data_uri
from vidspec.media.probe import mean_volume_db, probe
from vidspec.testing import FakeRunway


def test_veo_audio_and_prices(fake: FakeRunway, client: httpx.Client, tmp_path: Path) -> None:
    body = {"model": "veo3.1", "promptText": "Surf at dusk", "ratio": "720:1280", "duration": 4}
    with_audio = create(client, "text_to_video", body)
    silent = create(client, "text_to_video", {**body, "model": "veo3.1_fast", "audio": False})
    task, _ = wait(client, with_audio)
    assert task["cost"]["credits"] == 160
    info = probe(download(task["output"][0], tmp_path / "a.mp4"))
    assert (info.width, info.height) == (180, 320) and info.audio_codec == "aac"
    assert abs(info.duration - 4.0) <= 0.1
    task, _ = wait(client, silent)
    assert task["cost"]["credits"] == 40
    assert probe(download(task["output"][0], tmp_path / "b.mp4")).audio_codec is None


def test_image_and_audio_outputs(client: httpx.Client, tmp_path: Path) -> None:
    img = create(
        client, "text_to_image", {"model": "gen4_image", "promptText": "A lighthouse", "ratio": "1920:1080"}
    )
    speech = create(
        client,
        "text_to_speech",
        {"model": "eleven_multilingual_v2", "promptText": "one two three four five six seven eight nine ten",
         "voice": {"type": "runway-preset", "presetId": "Maya"}},
    )  # fmt: skip
    sound = create(
        client, "sound_effect", {"model": "eleven_text_to_sound_v2", "promptText": "rain", "duration": 7}
    )
    dub = create(
        client,
        "voice_dubbing",
        {"model": "eleven_voice_dubbing", "audioUri": wav_data_uri(2.5), "targetLang": "fr"},
    )
    task, _ = wait(client, img)
    assert task["cost"]["credits"] == 8
    info = probe(download(task["output"][0], tmp_path / "i.png"))
    assert info.is_image and (info.width, info.height) == (480, 270)
    for tid, seconds, credits in ((speech, 4.0, 1), (sound, 7.0, 2), (dub, 2.5, 2)):
        task, _ = wait(client, tid)
        assert task["cost"]["credits"] == credits
        path = download(task["output"][0], tmp_path / f"{tid}.wav")
        with wave.open(str(path)) as w:
            assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 22050, 2)
            assert abs(w.getnframes() / w.getframerate() - seconds) < 0.01
        assert mean_volume_db(path) > -40


def test_video_inputs_via_data_uri_and_upload(fake: FakeRunway, client: httpx.Client, tmp_path: Path) -> None:
    clip = fake.media.get("video", 160, 90, 3.0).read_bytes()
    v2v = create(
        client,
        "video_to_video",
        {"model": "gen4_aleph", "videoUri": "data:video/mp4;base64," + base64.b64encode(clip).decode(),
         "promptText": "make it snow"},
    )  # fmt: skip
    up = client.post("/v1/uploads", json={"filename": "ref.mp4", "type": "ephemeral"}).json()
    assert up["runwayUri"].startswith("runway://") and up["uploadUrl"].startswith(fake.url)
    body = {"model": "act_two", "character": {"type": "image", "uri": "https://example.com/c.png"},
            "reference": {"type": "video", "uri": up["runwayUri"]}, "ratio": "960:960"}  # fmt: skip
    assert client.post("/v1/character_performance", json=body).status_code == 400  # upload not sent yet
    r = httpx.post(up["uploadUrl"], data=up["fields"], files={"file": ("ref.mp4", clip, "video/mp4")})
    assert r.status_code == 204, r.text
    act = create(client, "character_performance", body)
    task, _ = wait(client, v2v)
    assert task["cost"]["credits"] == 45
    info = probe(download(task["output"][0], tmp_path / "v.mp4"))
    assert abs(info.duration - 3.0) <= 0.1 and (info.width, info.height) == (160, 90)
    task, _ = wait(client, act)
    assert task["cost"]["credits"] == 15
    info = probe(download(task["output"][0], tmp_path / "a.mp4"))
    assert abs(info.duration - 3.0) <= 0.1 and (info.width, info.height) == (240, 240)
