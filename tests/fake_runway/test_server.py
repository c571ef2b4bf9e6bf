"""The server's doors: headers and keys, and a secret that is never recorded or printed."""

from __future__ import annotations

import httpx
import pytest

from tests.fake_runway.calls import HEADERS, T2V
from vidspec.testing import FakeRunway


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
