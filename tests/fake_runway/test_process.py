"""The fake in a child process, driven through /_admin."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fake_runway.calls import HEADERS, T2V, create, wait
from vidspec.testing import FakeRunwayProcess

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server


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
