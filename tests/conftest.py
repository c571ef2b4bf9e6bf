from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ff as _ff
from vidspec.testing import FakeRunway

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key or cache dir must never leak into a test.
    for name in (
        "RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "VIDSPEC_CACHE_DIR", "VIDSPEC_ALLOW_PATHS",
        "VIDSPEC_CACHE_URL", "VIDSPEC_LEASE_TTL", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("COLUMNS", "160")


FAKE_KEY = "test-key-not-real"


@pytest.fixture
def fake_runway(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    """The fake Runway API on 127.0.0.1, with a key and the base URL set for vidspec (new tests use this)."""
    with FakeRunway(latency=0.05) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", FAKE_KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


# Tiny clips and sounds for both stitch engines' tests (320x180, 24 fps, ultrafast), made once per run.
@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    m: dict[str, Path] = {}
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    for i, hue in enumerate((0, 120, 240)):
        m[f"c{i}"] = d / f"c{i}.mp4"
        src = "testsrc2=size=320x180:rate=24:duration=1.5"
        _ff("-f", "lavfi", "-i", src, "-vf", f"hue=h={hue}", *x264, str(m[f"c{i}"]))
    # square, 30 fps, with its own audio: exercises fit and fps normalisation
    m["sq"] = d / "sq.mp4"
    _ff(
        "-f", "lavfi", "-i", "testsrc2=size=200x200:rate=30:duration=1.5",
        "-f", "lavfi", "-i", "sine=f=300:d=1.5", *x264, "-c:a", "aac", "-shortest", str(m["sq"]),
    )  # fmt: skip
    for name, freq, dur in (("n1", 440, 1.0), ("nlong", 550, 2.2), ("music", 110, 0.7)):
        m[name] = d / f"{name}.wav"
        _ff("-f", "lavfi", "-i", f"sine=f={freq}:d={dur}", str(m[name]))
    m["hush"] = d / "hush.wav"
    _ff("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "1.0", str(m["hush"]))
    return m


# ---- a real S3 API on loopback (moto's server mode) for the team cache ------------------------------------

AWS_SECRET = "aws-secret-not-real-5b1e9d"  # the leak tests grep for it


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class S3Server:
    """moto's ThreadedMotoServer on 127.0.0.1 at a free port; ``stop`` closes the port (a store that is down)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._server.stop()

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key=AWS_SECRET,
        )  # fmt: skip


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[S3Server], None]:
    """Point the AWS environment (as a user would set it) at a server."""

    def point(server: S3Server) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        monkeypatch.setenv("AWS_REGION", "us-east-1")

    return point


@pytest.fixture
def team_bucket(s3_server: S3Server, s3_env: Callable[[S3Server], None]) -> str:
    """A new bucket on the shared server, the AWS environment pointing at it; returns the --cache-url."""
    import uuid

    s3_env(s3_server)
    bucket = f"team-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    return f"s3://{bucket}/films"
