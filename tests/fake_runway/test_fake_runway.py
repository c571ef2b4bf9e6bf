from __future__ import annotations

import base64
import io
import time
import wave
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from vidspec.media.probe import mean_volume_db, probe
from vidspec.testing import FakeRunway, FakeRunwayProcess
from vidspec.testing.fake_media import tone_wav

HEADERS = {"Authorization": "Bearer test-key", "X-Runway-Version": "2024-11-06"}
T2V = {"model": "gen4.5", "promptText": "A slow dolly-in on a red door", "ratio": "1280:720", "duration": 2}


@pytest.fixture
def fake() -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.2) as f:
        yield f


@pytest.fixture
def client(fake: FakeRunway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=HEADERS, timeout=10) as c:
        yield c


def wait(client: httpx.Client, task_id: str, timeout: float = 10.0) -> tuple[dict[str, Any], list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/v1/tasks/{task_id}")
        assert r.status_code == 200, r.text
        task = r.json()
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        if task["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return task, seen
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} never finished: {seen}")


def create(client: httpx.Client, endpoint: str, body: dict[str, Any]) -> str:
    r = client.post(f"/v1/{endpoint}", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def download(url: str, path: Path) -> Path:
    r = httpx.get(url)
    assert r.status_code == 200, r.text
    path.write_bytes(r.content)
    return path


def wav_data_uri(seconds: float) -> str:
    return "data:audio/wav;base64," + base64.b64encode(tone_wav(seconds)).decode()


def test_text_to_video_lifecycle_and_real_output(
    fake: FakeRunway, client: httpx.Client, tmp_path: Path
) -> None:
    tid = create(client, "text_to_video", T2V)
    first = client.get(f"/v1/tasks/{tid}").json()
    assert first["status"] == "PENDING" and first["estimatedCost"] == {"credits": 24} and "cost" not in first
    datetime.fromisoformat(first["createdAt"].replace("Z", "+00:00"))
    progress: list[float] = []
    while (task := client.get(f"/v1/tasks/{tid}").json())["status"] != "SUCCEEDED":
        if task["status"] == "RUNNING":
            progress.append(task["progress"])
        time.sleep(0.02)
    assert progress and all(0 <= p <= 1 for p in progress) and progress == sorted(progress)
    assert task["cost"] == {"credits": 24} and "estimatedCost" not in task
    again = client.get(f"/v1/tasks/{tid}").json()
    assert again["output"][0] != task["output"][0]  # fresh URL on every GET
    info = probe(download(task["output"][0], tmp_path / "out.mp4"))
    assert abs(info.duration - 2.0) <= 0.1
    assert (info.width, info.height, info.fps) == (320, 180, 24.0)
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", None)
    assert fake.create_count() == fake.create_count("text_to_video") == 1
    assert fake.creates[0][0] == "text_to_video" and fake.creates[0][2] == tid
    assert fake.downloads == 1 and fake.polls >= 3 and fake.task_polls[tid] == fake.polls


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
        ("image_to_video", {**T2V, "model": "gen4_turbo", "duration": 7, "promptImage": "https://x.io/a.png"},
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


def test_headers_and_keys(client: httpx.Client, fake: FakeRunway) -> None:
    url = f"{fake.url}/v1/organization"
    assert httpx.get(url, headers={"X-Runway-Version": "2024-11-06"}).status_code == 401
    assert httpx.get(url, headers={**HEADERS, "Authorization": "Bearer"}).status_code == 401
    assert httpx.get(url, headers={**HEADERS, "Authorization": "Basic dXNlcg=="}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer k"}).status_code == 400
    assert httpx.get(url, headers={**HEADERS, "X-Runway-Version": "2023-01-01"}).status_code == 400
    fake.valid_keys = {"good"}
    assert httpx.get(url, headers={**HEADERS, "Authorization": "Bearer bad"}).status_code == 401
    org = httpx.get(url, headers={**HEADERS, "Authorization": "Bearer good"}).json()
    assert org["creditBalance"] == 100_000
    assert org["tier"]["models"]["gen4.5"]["maxConcurrentGenerations"] == 2
    assert org["usage"]["models"]["veo3.1"]["dailyGenerations"] == 0


def test_secret_never_recorded_or_printed(capfd: pytest.CaptureFixture[str]) -> None:
    secret = "key_0123456789abcdef-SECRET"
    with FakeRunway(latency=0.1) as fake, httpx.Client(base_url=fake.url) as c:
        headers = {**HEADERS, "Authorization": f"Bearer {secret}"}
        c.post("/v1/text_to_video", json=T2V, headers=headers)
        c.get("/v1/organization", headers=headers)
        assert secret.encode() not in fake.raw_log and b"Authorization: [REDACTED]" in fake.raw_log
        assert all(
            r.auth_present and "authorization" not in {k.lower() for k in r.headers} for r in fake.requests
        )
        assert fake.requests[0].json == T2V
        fake.reset_counters()
        assert fake.requests == [] and fake.raw_log == b"" and fake.create_count() == 0
    out, err = capfd.readouterr()
    assert secret not in out + err


def test_http_error_faults(fake: FakeRunway, client: httpx.Client) -> None:
    fault = fake.inject("http_429", path="/v1/text_to_video", times=2, retry_after=1)
    assert client.get("/v1/organization").status_code == 200  # the path filter
    for _ in range(2):
        r = client.post("/v1/text_to_video", json=T2V)
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert client.post("/v1/text_to_video", json=T2V).status_code == 200
    assert fault.fired == 2 and fake.create_count() == 1
    for kind, status in (("http_500", 500), ("http_503", 503), ("http_401", 401)):
        fake.inject(kind, path="/v1/tasks")
        assert client.get("/v1/tasks/whatever").status_code == status
    assert client.get("/v1/organization").status_code == 200


def test_drop_connection_and_timeout_after_create(fake: FakeRunway, client: httpx.Client) -> None:
    fake.inject("drop_connection", path="/v1/text_to_video")
    with pytest.raises(httpx.TransportError):
        client.post("/v1/text_to_video", json=T2V)
    assert fake.create_count() == 0
    fake.inject("timeout_after_create", delay=1.0, then="respond")
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/text_to_video", json=T2V, timeout=0.3)
    fake.inject("timeout_after_create", path="/v1/text_to_video")
    with pytest.raises(httpx.TransportError):
        client.post("/v1/text_to_video", json=T2V)
    assert fake.create_count() == 2  # both tasks exist and are billed
    for _, _, tid in fake.creates:
        assert wait(client, tid)[0]["cost"]["credits"] == 24


def test_task_failed_faults(fake: FakeRunway, client: httpx.Client) -> None:
    fake.inject("task_failed", path="/v1/text_to_video", code="SAFETY.INPUT.TEXT")
    fake.inject("task_failed", model="gen4_image", code="INTERNAL.BAD_OUTPUT")
    safety = create(client, "text_to_video", T2V)
    ok = create(client, "text_to_video", T2V)
    internal = create(client, "text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "720:720"})
    task, _ = wait(client, safety)
    assert task["status"] == "FAILED" and task["failureCode"] == "SAFETY.INPUT.TEXT" and task["failure"]
    assert task["cost"]["credits"] == 24 and "output" not in task
    task, _ = wait(client, internal)
    assert (task["status"], task["failureCode"], task["cost"]["credits"]) == (
        "FAILED",
        "INTERNAL.BAD_OUTPUT",
        0,
    )
    assert wait(client, ok)[0]["status"] == "SUCCEEDED"
    assert fake.credit_balance() == 100_000 - 48


def test_expired_output_task_gone_and_ttl(client: httpx.Client) -> None:
    with FakeRunway(latency=0.1, url_ttl=0.3) as fake, httpx.Client(base_url=fake.url, headers=HEADERS) as c:
        tid = create(c, "text_to_video", T2V)
        url = wait(c, tid)[0]["output"][0]
        fake.inject("expired_output")
        r = httpx.get(url)
        assert r.status_code == 403 and "expired" in r.text
        assert httpx.get(url).status_code == 200
        time.sleep(0.35)
        r = httpx.get(url)
        assert r.status_code == 403 and "expired" in r.text
        assert httpx.get(c.get(f"/v1/tasks/{tid}").json()["output"][0]).status_code == 200
        fake.inject("task_gone", task_id=tid)
        assert c.get(f"/v1/tasks/{tid}").status_code == 404
        assert c.get(f"/v1/tasks/{tid}").status_code == 404


def test_throttled_when_over_concurrency(fake: FakeRunway, client: httpx.Client) -> None:
    fake.set_org(concurrency={"gen4.5": 1}, credit_balance=500)
    org = client.get("/v1/organization").json()
    assert org["tier"]["models"]["gen4.5"]["maxConcurrentGenerations"] == 1 and org["creditBalance"] == 500
    ids = [create(client, "text_to_video", T2V) for _ in range(3)]
    assert client.get("/v1/organization").json()["creditBalance"] == 500 - 3 * 24
    seen: dict[str, list[str]] = {tid: [] for tid in ids}
    while not all(s and s[-1] == "SUCCEEDED" for s in seen.values()):
        for tid in ids:
            status = client.get(f"/v1/tasks/{tid}").json()["status"]
            if not seen[tid] or seen[tid][-1] != status:
                seen[tid].append(status)
        time.sleep(0.02)
    assert "THROTTLED" in seen[ids[2]]
    assert all(s[-1] == "SUCCEEDED" for s in seen.values())
    t = [fake.tasks[i] for i in ids]
    assert all(
        a.ends is not None and b.started is not None and b.started >= a.ends - 1e-9 for a, b in zip(t, t[1:])
    )
    fake.set_org(credit_balance=119)
    r = client.post("/v1/text_to_video", json={**T2V, "duration": 10})  # 120 credits
    assert r.status_code == 400 and "credits" in r.json()["error"]


def test_cancel_delete_and_memoised_renders(fake: FakeRunway, client: httpx.Client) -> None:
    tid = create(client, "text_to_video", T2V)
    assert client.delete(f"/v1/tasks/{tid}").status_code == 204
    task = client.get(f"/v1/tasks/{tid}").json()
    assert task["status"] == "CANCELLED" and task["cost"] == {"credits": 0}
    assert client.delete(f"/v1/tasks/{tid}").status_code == 204
    assert client.get(f"/v1/tasks/{tid}").status_code == 404
    ids = [create(client, "text_to_video", {**T2V, "seed": i}) for i in range(5)]
    for tid in ids:
        httpx.get(wait(client, tid)[0]["output"][0]).raise_for_status()
    assert fake.media.renders == 1 and fake.downloads == 5


def test_subprocess_mode(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    with FakeRunwayProcess(latency=0.1, ready_file=ready) as proc:
        assert ready.read_text().strip() == proc.url
        with httpx.Client(base_url=proc.url, headers=HEADERS) as c:
            proc.inject("http_503", path="/v1/text_to_video", retry_after=2)
            assert c.post("/v1/text_to_video", json=T2V).status_code == 503
            tid = create(c, "text_to_video", T2V)
            task, _ = wait(c, tid)
            assert httpx.get(task["output"][0]).status_code == 200
        stats = proc.stats()
        assert stats["create_count"] == 1 and stats["downloads"] == 1 and stats["polls"] >= 1
        assert stats["tasks"][tid]["status"] == "SUCCEEDED" and stats["faults"][0]["fired"] == 1
        assert b"test-key" not in proc.raw_log()
    assert proc.proc.returncode is not None


def test_wav_helper_roundtrip() -> None:
    data = tone_wav(1.5)
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() == round(1.5 * 22050)
