from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ff as _ff
from vidspec.testing import FakeRunway

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key or cache dir must never leak into a test.
    for name in ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "VIDSPEC_CACHE_DIR", "VIDSPEC_ALLOW_PATHS"):
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
