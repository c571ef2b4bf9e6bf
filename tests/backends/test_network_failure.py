"""An unreachable API: the message names the base URL, says nothing was charged, and how to check the URL."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from tests.helpers import run
from vidspec.backends.runway.client import DEFAULT_BASE_URL, RetryPolicy, RunwayClient
from vidspec.errors import AmbiguousCreate, TransportError

BASE = "https://api.test.invalid"


def _call(exc: Exception, op: str) -> BaseException:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise exc

    async def main() -> None:
        async with RunwayClient(
            "k", BASE, transport=httpx.MockTransport(refuse), retry=RetryPolicy.none()
        ) as client:
            if op == "organization":
                await client.organization()
            elif op == "create":
                await client.create("text_to_video", {})
            else:
                await client.get_task("t1")

    with pytest.raises(Exception) as info:
        asyncio.run(main())
    return info.value


@pytest.mark.parametrize("op", ["organization", "create", "get_task"])
def test_an_unreachable_api_names_the_url_and_says_nothing_was_charged(op: str) -> None:
    err = _call(httpx.ConnectError("All connection attempts failed"), op)
    assert isinstance(err, TransportError) and not err.sent
    msg = str(err)
    assert f"cannot reach the Runway API at {BASE}" in msg
    assert "All connection attempts failed" in msg  # the cause, kept
    assert "nothing was charged" in msg
    assert "RUNWAYML_BASE_URL" in msg and DEFAULT_BASE_URL in msg


def test_a_read_that_lost_its_answer_names_the_url_and_charges_nothing() -> None:
    err = _call(httpx.ReadTimeout("timed out"), "get_task")
    assert isinstance(err, TransportError) and err.sent
    assert BASE in str(err) and "nothing was charged" in str(err)


def test_a_create_that_lost_its_answer_is_still_ambiguous() -> None:
    err = _call(httpx.ReadTimeout("timed out"), "create")
    assert isinstance(err, AmbiguousCreate) and "nothing was charged" not in str(err)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on leaving: nothing listens there


@pytest.mark.slow
def test_a_build_against_a_closed_port_says_what_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
    monkeypatch.setenv("RUNWAYML_BASE_URL", url)
    spec = tmp_path / "a.yaml"
    spec.write_text('version: 1\nscenes:\n  - {id: a, prompt: "Dawn over a lake, slow aerial"}\n')
    code, out, err = run(["build", str(spec), "--yes", "--json", "--no-stitch"], capsys)
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"vidspec: GET /v1/organization: cannot reach the Runway API at {url}")
    assert "nothing was charged" in line and "RUNWAYML_BASE_URL" in line
    assert "internal error" not in err
