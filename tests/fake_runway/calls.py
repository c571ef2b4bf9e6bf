"""Talking to the fake over HTTP, as a client would: shared by the tests of this folder."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx

from vidspec.testing.fake_media import tone_wav

HEADERS = {"Authorization": "Bearer test-key", "X-Runway-Version": "2024-11-06"}
T2V = {"model": "gen4.5", "promptText": "A slow dolly-in on a red door", "ratio": "1280:720", "duration": 2}


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
