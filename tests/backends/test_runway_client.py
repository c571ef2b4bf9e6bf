"""RunwayClient against httpx.MockTransport: headers, retries, error mapping, inputs, downloads. No network."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from vidspec.backends.runway import client as runway
from vidspec.backends.runway.client import (
    API_VERSION,
    DEFAULT_BASE_URL,
    RetryEvent,
    RetryPolicy,
    RunwayClient,
    Task,
)
from vidspec.errors import (
    AmbiguousCreate,
    AuthError,
    BadRequest,
    ConfigError,
    DownloadExpired,
    RateLimited,
    ServerError,
    TaskNotFound,
    TransportError,
)

KEY = "test-key-not-real"
BASE = "https://api.test.invalid"
T = TypeVar("T")
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and answers from a script (last entry repeats)."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def run(
    rec: Recorder,
    call: Callable[[RunwayClient], Awaitable[T]],
    *,
    retry: RetryPolicy | None = None,
    sleeps: list[float] | None = None,
    events: list[RetryEvent] | None = None,
) -> T:
    async def fake_sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    async def main() -> T:
        async with RunwayClient(
            KEY,
            BASE,
            transport=httpx.MockTransport(rec),
            retry=retry or RetryPolicy.fast(),
            sleep=fake_sleep,
            on_retry=events.append if events is not None else None,
        ) as client:
            return await call(client)

    return asyncio.run(main())


def ok_task(task_id: str = "t1", **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": task_id, "status": "PENDING", **extra})


# ------------------------------------------------------------------------------------------ headers and models


def test_every_api_request_sends_the_three_headers() -> None:
    rec = Recorder(
        lambda r: httpx.Response(
            200, json={"id": "t1"} if r.method == "POST" else {"id": "t1", "status": "RUNNING"}
        )
    )

    async def calls(c: RunwayClient) -> None:
        await c.create("text_to_video", {"model": "gen4.5", "promptText": "a dolly-in on a jar"})
        await c.get_task("t1")
        await c.organization()
        await c.delete_task("t1")

    run(rec, calls)
    assert [(r.method, r.url.path) for r in rec.requests] == [
        ("POST", "/v1/text_to_video"),
        ("GET", "/v1/tasks/t1"),
        ("GET", "/v1/organization"),
        ("DELETE", "/v1/tasks/t1"),
    ]
    for r in rec.requests:
        assert r.headers["Authorization"] == f"Bearer {KEY}"
        assert r.headers["X-Runway-Version"] == API_VERSION == "2024-11-06"
        assert r.headers["Content-Type"] == "application/json"
    assert json.loads(rec.requests[0].content) == {"model": "gen4.5", "promptText": "a dolly-in on a jar"}


def test_task_and_organization_are_parsed_leniently() -> None:
    task = Task.from_json(
        {
            "id": "t9",
            "status": "SUCCEEDED",
            "output": ["https://cdn.test.invalid/a.mp4", 3],
            "cost": {"credits": 60},
            "estimatedCost": {"credits": 60},
            "createdAt": "2026-10-01T00:00:00Z",
            "somethingNew": True,
        }
    )
    assert task.is_over and task.output == ("https://cdn.test.invalid/a.mp4",)
    assert (task.cost_credits, task.estimated_credits, task.progress) == (60, 60, None)
    assert not Task.from_json({"id": "t", "status": "THROTTLED"}).is_over

    rec = Recorder(
        httpx.Response(
            200,
            json={
                "creditBalance": 1234,
                "tier": {
                    "maxMonthlyCreditSpend": 10000,
                    "models": {"gen4.5": {"maxConcurrentGenerations": 2, "maxDailyGenerations": None}},
                },
                "usage": {"models": {"gen4.5": {"dailyGenerations": 7}}},
            },
        )
    )
    org = run(rec, lambda c: c.organization())
    assert org.credit_balance == 1234
    assert (org.max_concurrent("gen4.5"), org.max_daily("gen4.5"), org.daily_generations("gen4.5")) == (
        2,
        None,
        7,
    )
    assert (org.max_concurrent("veo3.1"), org.daily_generations("veo3.1")) == (None, 0)


# ------------------------------------------------------------------------------------------ retries


def test_429_is_retried_honouring_retry_after() -> None:
    rec = Recorder(
        httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow down"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(200, json={"id": "t1"}),
    )
    sleeps: list[float] = []
    events: list[RetryEvent] = []
    assert run(rec, lambda c: c.create("text_to_image", {}), sleeps=sleeps, events=events) == "t1"
    assert len(rec.requests) == 3
    assert sleeps == [3.0, 0.0]  # the server's wait, not the backoff
    assert [e.retries_taken for e in events] == [0, 1]
    assert all(isinstance(e.error, RateLimited) for e in events)


def test_retry_after_longer_than_the_cap_gives_up_at_once() -> None:
    # A daily generation limit answers 429 for hours: waiting a capped minute and retrying would just fail again.
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "7200"}, json={"error": "daily limit"}))
    with pytest.raises(RateLimited) as info:
        run(rec, lambda c: c.create("text_to_video", {}))
    assert len(rec.requests) == 1
    assert info.value.retry_after == 7200 and info.value.retries_taken == 0
    assert "daily limit" in str(info.value)


def test_retry_after_http_date_and_backoff() -> None:
    assert runway.parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert runway.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert runway.parse_retry_after("soon") is None
    policy = RetryPolicy(jitter=False)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, None]
    assert RetryPolicy(max_retries=9, jitter=False).delay(6) == 8.0  # capped at max_delay
    assert all(0.0 <= (RetryPolicy().delay(3) or -1) <= 4.0 for _ in range(50))  # full jitter


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried_then_server_error(status: int) -> None:
    rec = Recorder(httpx.Response(status, text="upstream trouble"))
    sleeps: list[float] = []
    with pytest.raises(ServerError) as info:
        run(rec, lambda c: c.get_task("t1"), sleeps=sleeps)
    assert len(rec.requests) == 1 + RetryPolicy.fast().max_retries
    assert info.value.status == status and info.value.retries_taken == 4
    assert sleeps == [0.001, 0.002, 0.004, 0.004]
    assert "upstream trouble" in str(info.value)


def test_5xx_on_create_is_retried_because_no_task_was_made() -> None:
    rec = Recorder(httpx.Response(503), httpx.Response(200, json={"id": "t2"}))
    assert run(rec, lambda c: c.create("image_to_video", {})) == "t2"
    assert len(rec.requests) == 2


def test_504_on_create_is_ambiguous_not_retried() -> None:
    # A gateway timeout means a proxy stopped waiting; the origin may still have made the task.
    rec = Recorder(httpx.Response(504))
    with pytest.raises(AmbiguousCreate):
        run(rec, lambda c: c.create("image_to_video", {}))
    assert len(rec.requests) == 1


# ------------------------------------------------------------------------------------------ error mapping


def test_401_is_auth_error_without_the_key() -> None:
    rec = Recorder(httpx.Response(401, json={"error": f"bad key {KEY}"}))
    with pytest.raises(AuthError) as info:
        run(rec, lambda c: c.organization())
    assert str(info.value).startswith("the API key was refused; set RUNWAYML_API_SECRET")
    assert len(rec.requests) == 1
    for text in (str(info.value), repr(info.value)):
        assert KEY not in text


def test_400_carries_the_api_message_and_the_asset() -> None:
    rec = Recorder(httpx.Response(400, json={"error": "promptText is too long"}))
    with pytest.raises(BadRequest) as info:
        run(rec, lambda c: c.create("text_to_video", {}))
    err = info.value
    assert err.api_message == "promptText is too long" and len(rec.requests) == 1
    err.asset = "intro.video"
    assert str(err) == "intro.video: the Runway API refused the request: promptText is too long"


def test_400_echoing_the_key_is_scrubbed() -> None:
    rec = Recorder(httpx.Response(400, text=f"header was Bearer {KEY}"))
    with pytest.raises(BadRequest) as info:
        run(rec, lambda c: c.create("text_to_video", {}))
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_404_on_a_task_is_task_not_found() -> None:
    rec = Recorder(httpx.Response(404, json={"error": "not found"}))
    with pytest.raises(TaskNotFound) as info:
        run(rec, lambda c: c.get_task("gone"))
    assert info.value.task_id == "gone" and len(rec.requests) == 1


# ------------------------------------------------------------------------------------------ lost answers


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("peer closed"), httpx.ReadError("reset")],
)
def test_create_with_lost_answer_is_ambiguous_and_sent_once(exc: Exception) -> None:
    rec = Recorder(exc, httpx.Response(200, json={"id": "never"}))
    with pytest.raises(AmbiguousCreate) as info:
        run(rec, lambda c: c.create("text_to_video", {}))
    assert len(rec.requests) == 1
    assert info.value.endpoint == "text_to_video" and info.value.elapsed >= 0
    assert not info.value.retryable


def test_create_connect_error_is_retried() -> None:
    rec = Recorder(
        httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.Response(200, json={"id": "t3"})
    )
    assert run(rec, lambda c: c.create("text_to_speech", {})) == "t3"
    assert len(rec.requests) == 3


def test_get_task_read_timeout_is_retried_then_transport_error() -> None:
    rec = Recorder(httpx.ReadTimeout("timed out"), ok_task())
    assert run(rec, lambda c: c.get_task("t1")).id == "t1"
    rec = Recorder(httpx.ReadTimeout("timed out"))
    with pytest.raises(TransportError) as info:
        run(rec, lambda c: c.get_task("t1"), retry=RetryPolicy(max_retries=1, base_delay=0.0))
    assert info.value.sent and len(rec.requests) == 2


# ------------------------------------------------------------------------------------------ inputs


def test_small_file_becomes_a_data_uri(tmp_path: Path) -> None:
    img = tmp_path / "logo.PNG"
    img.write_bytes(b"\x89PNG fake")
    rec = Recorder(httpx.Response(500))
    uri = run(rec, lambda c: c.input_uri(img, "image"))
    assert uri == "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    assert rec.requests == []
    assert (
        runway.mime_type(Path("a.mov")) == "video/quicktime"
        and runway.mime_type(Path("a.m4a")) == "audio/mp4"
    )


def test_large_file_goes_through_an_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runway, "DATA_URI_LIMIT", 16)
    clip = tmp_path / "take.mp4"
    clip.write_bytes(b"x" * 64)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.test.invalid":
            return httpx.Response(
                200,
                json={
                    "uploadUrl": "https://uploads.test.invalid/bucket",
                    "fields": {"key": "abc", "policy": "p"},
                    "runwayUri": "runway://upload/abc",
                },
            )
        return httpx.Response(204)

    rec = Recorder(handler)
    assert run(rec, lambda c: c.input_uri(clip, "video")) == "runway://upload/abc"
    create, post = rec.requests
    assert json.loads(create.content) == {"filename": "take.mp4", "type": "ephemeral"}
    assert post.url == "https://uploads.test.invalid/bucket"
    assert "Authorization" not in post.headers  # the key goes to the API only
    body = post.content
    assert b'name="key"' in body and b'name="file"; filename="take.mp4"' in body and b"x" * 64 in body
    assert body.index(b'name="key"') < body.index(b'name="file"')  # presigned forms need fields first


# ------------------------------------------------------------------------------------------ downloads


def test_download_streams_to_dest(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 5000
    rec = Recorder(httpx.Response(503), httpx.Response(200, content=payload))
    dest = tmp_path / "out.mp4.part"
    assert run(rec, lambda c: c.download("https://cdn.test.invalid/o.mp4?sig=s3cr3t", dest)) == len(payload)
    assert dest.read_bytes() == payload
    assert len(rec.requests) == 2 and "Authorization" not in rec.requests[1].headers


def test_download_403_is_expired(tmp_path: Path) -> None:
    rec = Recorder(httpx.Response(403))
    dest = tmp_path / "out.mp4.part"
    with pytest.raises(DownloadExpired) as info:
        run(rec, lambda c: c.download("https://cdn.test.invalid/o.mp4?sig=s3cr3t", dest))
    assert len(rec.requests) == 1 and not dest.exists()
    assert "s3cr3t" not in str(info.value) and info.value.status == 403


# ------------------------------------------------------------------------------------------ construction


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="RUNWAYML_API_SECRET is not set"):
        RunwayClient.from_env()
    monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
    client = RunwayClient.from_env()
    assert client.base_url == DEFAULT_BASE_URL
    asyncio.run(client.aclose())
    monkeypatch.setenv("RUNWAYML_BASE_URL", "http://127.0.0.1:9/")
    rec = Recorder(ok_task())
    client = RunwayClient.from_env(transport=httpx.MockTransport(rec))
    assert client.base_url == "http://127.0.0.1:9"
    asyncio.run(client.get_task("t1"))
    assert str(rec.requests[0].url) == "http://127.0.0.1:9/v1/tasks/t1"
    asyncio.run(client.aclose())


def test_repr_hides_the_key() -> None:
    client = RunwayClient(KEY, BASE)
    for text in (repr(client), str(client), repr(vars(client))):
        assert KEY not in text
    asyncio.run(client.aclose())


def test_short_download_is_retried(tmp_path: Path) -> None:
    short = httpx.Response(200, content=b"abc", headers={"Content-Length": "10"})
    rec = Recorder(short, httpx.Response(200, content=b"0123456789"))
    dest = tmp_path / "out.wav.part"
    assert run(rec, lambda c: c.download("https://cdn.test.invalid/o.wav", dest)) == 10
    assert dest.read_bytes() == b"0123456789" and len(rec.requests) == 2
