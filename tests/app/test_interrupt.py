"""Ctrl-C during a paid build: the user learns what is in flight and journaled, and that the same command
resumes without paying twice; exit 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidspec.testing.fake_runway import FakeRunwayProcess

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server

KEY = "test-key-not-real-sigint"

SPEC = """\
version: 1
name: small
defaults: {ratio: "1280:720", duration: 2, voice: Maya}
scenes:
  - id: harbour
    prompt: "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
    narration: "Every morning starts here."
  - id: market
    prompt: "A fishmonger lays fresh catch on crushed ice, handheld close-up"
    sfx: {prompt: "gulls and a busy market", duration: 2}
  - id: jar
    model: gen4_turbo
    duration: 5
    image:
      prompt: "Studio photo of a jar of sambal on slate"
      ratio: "1280:720"
    prompt: "Slow push toward the jar"
"""


def _journaled(journal: Path) -> dict[str, str]:
    """Asset name -> task id, for the creates that came back with an id."""
    out = {}
    for p in journal.glob("*.json"):
        try:
            entry = json.loads(p.read_text())
        except ValueError:  # being replaced this very moment
            continue
        if entry.get("task_id"):
            out[entry["name"]] = entry["task_id"]
    return out


@pytest.mark.parametrize("live", [False, True], ids=["json", "live-view"])
def test_ctrl_c_says_what_is_in_flight_and_the_resume_pays_nothing_twice(tmp_path: Path, live: bool) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text(SPEC, "utf-8")
    journal = tmp_path / ".vidspec" / "journal"
    with FakeRunwayProcess(latency=3.0) as server:
        env = dict(os.environ, RUNWAYML_API_SECRET=KEY, RUNWAYML_BASE_URL=server.url, COLUMNS="160")
        cmd = [sys.executable, "-m", "vidspec", "build", str(spec), "--yes", "--poll-scale", "0.05"]
        cmd += ["--no-stitch"] + ([] if live else ["--json"])
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_journaled(journal)) < 5:
            time.sleep(0.02)
        in_flight = _journaled(journal)
        assert len(in_flight) == 5, "tasks never went in flight"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "aborted" not in err
        assert "interrupted" in err
        for name, task_id in in_flight.items():
            assert name in err and task_id[:8] in err and task_id not in err  # ids shortened
        assert "journaled" in err and "run the same command" in err.lower() and "twice" in err
        assert server.stats()["create_count"] == 5
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr
        bodies = [json.dumps(c["body"], sort_keys=True) for c in server.stats()["creates"]]
        assert len(bodies) == len(set(bodies)) == 6  # the resume made only the one never submitted


def test_ctrl_c_with_nothing_in_flight_says_so(tmp_path: Path) -> None:
    """The free preview: nothing is paid, and the message still says how to resume."""
    spec = tmp_path / "small.yaml"
    spec.write_text(SPEC, "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL")}
    cmd = [sys.executable, "-m", "vidspec", "build", str(spec), "--backend", "preview", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until rendering has begun
        if '"rendering"' in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err and "run the same command" in err.lower()
