"""Importing moviepy never changes the environment: it would read a .env into a process holding the API key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# In a subprocess: moviepy is imported once per process, and `python -c` makes python-dotenv search the
# working directory (a script would make it search upwards from moviepy's install dir: a venv in the project).
PROBE = """
import json, os, sys
before = dict(os.environ)
from vidspec.media.stitch import moviepy_engine
moviepy_engine.load_moviepy()
import moviepy.config
after = dict(os.environ)
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
print(json.dumps({"changed": changed, "ffmpeg": moviepy.config.FFMPEG_BINARY, "dotenv": "dotenv" in sys.modules}))
"""


@pytest.mark.slow
def test_a_dotenv_in_the_working_directory_changes_nothing(tmp_path: Path) -> None:
    planted = {
        "RUNWAYML_BASE_URL": "http://evil.example",
        "VIDSPEC_CACHE_DIR": "/tmp/evil",
        "FFMPEG_BINARY": "/bin/true",
    }
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in planted.items()))
    env = {k: v for k, v in os.environ.items() if k not in planted}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["changed"] == []
    assert got["ffmpeg"] != "/bin/true"  # the binary moviepy runs is not the .env's either


def test_an_already_imported_dotenv_is_left_in_place() -> None:
    # The guard hides python-dotenv during the import only: a program that uses it keeps it.
    from vidspec.media.stitch.moviepy_engine import load_moviepy

    dotenv = pytest.importorskip("dotenv")
    load_moviepy()
    assert sys.modules["dotenv"] is dotenv
