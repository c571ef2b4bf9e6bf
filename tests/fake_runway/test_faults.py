"""Injected faults: HTTP errors, dropped connections, late answers, failed tasks, expired URLs."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fake_runway.calls import HEADERS, T2V, create, wait
from vidspec.testing import FakeRunway


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


@pytest.mark.parametrize("failure_code", ["absent", "null"])
def test_a_failed_task_may_come_without_a_failure_code(
    fake: FakeRunway, client: httpx.Client, failure_code: str
) -> None:
    fake.inject("task_failed", path="/v1/text_to_video", failure_code=failure_code, failure="It broke.")
    task, _ = wait(client, create(client, "text_to_video", T2V))
    assert task["status"] == "FAILED" and task["failure"] == "It broke."
    if failure_code == "absent":
        assert "failureCode" not in task
    else:
        assert "failureCode" in task and task["failureCode"] is None
    assert task["cost"]["credits"] == 0  # not a SAFETY.INPUT failure: refunded


def test_a_failure_code_option_is_checked(fake: FakeRunway) -> None:
    with pytest.raises(ValueError, match="failure_code"):
        fake.inject("task_failed", failure_code="missing")


def test_bad_request_fault(fake: FakeRunway, client: httpx.Client) -> None:
    issues = [{"code": "custom", "path": ["promptImage", 0, "uri"], "message": "Image could not be decoded"}]
    fake.inject(
        "bad_request", path="/v1/image_to_video", issues=issues, docUrl="https://docs.dev.runwayml.com/x"
    )
    fake.inject("bad_request", path="/v1/text_to_video")
    body = {"model": "gen4_turbo", "ratio": "960:960", "duration": 5, "promptImage": "https://x.io/a.png"}
    r = client.post("/v1/image_to_video", json=body)
    assert r.status_code == 400
    assert r.json() == {
        "error": "Validation of body failed",
        "issues": issues,
        "docUrl": "https://docs.dev.runwayml.com/x",
    }
    r = client.post("/v1/text_to_video", json=T2V)
    assert r.status_code == 400 and r.json() == {"error": "injected HTTP 400"}  # issues may be absent
    assert fake.create_count() == 0
    assert client.post("/v1/image_to_video", json=body).status_code == 200


def test_expired_output_task_gone_and_ttl(client: httpx.Client) -> None:
    # The TTL leaves room for a loaded machine between the task's end and the second fetch.
    with FakeRunway(latency=0.1, url_ttl=1.5) as fake, httpx.Client(base_url=fake.url, headers=HEADERS) as c:
        tid = create(c, "text_to_video", T2V)
        url = wait(c, tid)[0]["output"][0]
        fake.inject("expired_output")
        r = httpx.get(url)
        assert r.status_code == 403 and "expired" in r.text
        assert httpx.get(url).status_code == 200
        time.sleep(1.55)
        r = httpx.get(url)
        assert r.status_code == 403 and "expired" in r.text
        assert httpx.get(c.get(f"/v1/tasks/{tid}").json()["output"][0]).status_code == 200
        fake.inject("task_gone", task_id=tid)
        assert c.get(f"/v1/tasks/{tid}").status_code == 404
        assert c.get(f"/v1/tasks/{tid}").status_code == 404
