"""Tasks through their states: PENDING, THROTTLED, RUNNING, over; cost, cancel and delete."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx

from tests.fake_runway.calls import T2V, create, download, wait
from vidspec.media.probe import probe
from vidspec.testing import FakeRunway


def test_text_to_video_lifecycle_and_real_output(
    fake: FakeRunway, client: httpx.Client, tmp_path: Path
) -> None:
    fake.latency = 1.0  # still PENDING when a loaded machine first polls
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


def test_throttled_when_over_concurrency(fake: FakeRunway, client: httpx.Client) -> None:
    fake.set_org(concurrency={"gen4.5": 1}, credit_balance=500)
    fake.latency = 1.0  # the third task must still be waiting when a loaded machine first polls it
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
