"""`vidspec build --backend runway` end to end against the fake Runway server, over real HTTP on loopback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import copy_examples, run, summary
from vidspec.testing.fake_runway import FakeRunway, FakeRunwayProcess

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-key-not-real-7f3a9c"  # obviously fake; the leak test greps for it
FAST = ["--poll-scale", "0.02", "--json", "--no-stitch"]

SMALL = """\
version: 1
name: small
defaults: {{ratio: "1280:720", duration: 2, voice: Maya}}
scenes:
  - id: harbour
    prompt: "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
    narration: "{narration}"
  - id: market
    prompt: "A fishmonger lays fresh catch on crushed ice, handheld close-up"
    sfx: {{prompt: "gulls and a busy market", duration: 2}}
  - id: jar
    model: gen4_turbo
    duration: 5
    image:
      prompt: "Studio photo of a jar of sambal on slate"
      ratio: "1280:720"
    prompt: "Slow push toward the jar"
"""


def write_spec(tmp: Path, narration: str = "Every morning starts here.") -> Path:
    spec = tmp / "small.yaml"
    spec.write_text(SMALL.format(narration=narration), "utf-8")
    return spec


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.15) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


def test_full_build_once_then_nothing(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_examples(tmp_path / "ex")
    spec = tmp_path / "ex" / "hawker-noodles.yaml"
    code, out, err = run(["build", str(spec), "--backend", "runway", "--yes", *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    assert s["generated"] == 9 and s["failed"] == []
    assert fake.create_count() == 9  # exactly one create per unique asset
    assert s["credits_charged"] == s["credits_estimated"] == 214  # the fake's own price table agrees
    lock = json.loads((tmp_path / "ex" / "hawker-noodles.lock.json").read_text())
    assert list(lock["assets"]) == sorted(lock["assets"])
    entry = lock["assets"]["opening.video"]
    assert entry["seed"] == 42 and entry["task_id"] and entry["duration"] == pytest.approx(5.0, abs=0.1)
    ledger = json.loads((tmp_path / "ex" / "build" / "hawker-noodles.ledger.json").read_text())
    assert ledger["credits_charged"] == 214
    fake.reset_counters()
    code, out, _ = run(["build", str(spec), "--backend", "runway", "--yes", *FAST], capsys)
    assert code == 0
    assert summary(out)["cached"] == 9
    assert fake.create_count() == 0 and fake.downloads == 0 and fake.polls == 0
    code, out, _ = run(["plan", "--json", "--detailed-exitcode", str(spec)], capsys)
    assert code == 0 and json.loads(out)["to_spend_credits"] == 0


def test_changed_narration_regenerates_only_that(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    assert run(["build", str(spec), "--yes", *FAST], capsys)[0] == 0
    write_spec(tmp_path, "Every evening ends here.")
    code, out, _ = run(["plan", "--json", str(spec)], capsys)
    plan = json.loads(out)
    todo = [(a["name"], a["reason"]) for s in plan["scenes"] for a in s["assets"] if not a["cached"]]
    assert todo == [("harbour.narration", "prompt changed")]
    fake.reset_counters()
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 0
    assert [c[0] for c in fake.creates] == ["text_to_speech"]
    assert fake.creates[0][1]["promptText"] == "Every evening ends here."


def test_renaming_a_scene_costs_nothing(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    assert run(["build", str(spec), "--yes", *FAST], capsys)[0] == 0
    spec.write_text(spec.read_text().replace("id: harbour", "id: dawn-harbour"))
    fake.reset_counters()
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 0 and fake.create_count() == 0


def test_budget_stops_submission_before_it_is_crossed(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "two.yaml"
    spec.write_text("""version: 1
scenes:
  - {id: a, prompt: "Waves break on black sand, low tracking shot", duration: 5}
  - {id: b, prompt: "Steam rises from a hot spring at dawn, slow dolly", duration: 5}
""")
    # The first create's answer is lost (but the fake makes and bills the task): 60 possibly billed.
    fake.inject("timeout_after_create", path="/v1/text_to_video", then="drop")
    # Sending it again needs its own consent (--yes alone stops it): then the budget counts it first.
    cmd = ["build", str(spec), "--yes", "--resubmit-ambiguous", "--max-credits", "120", "--concurrency", "1"]
    code, out, _ = run([*cmd, *FAST], capsys)
    s = summary(out)
    assert code == 1
    assert s["credits_possibly_billed"] == 60
    assert any("would cross the budget" in f["error"] for f in s["failed"])
    billed = sum(t["cost"] or t["credits"] for t in fake.stats()["tasks"].values())
    assert billed <= 120  # never crossed, counting the possibly-billed task
    assert any("may have been billed" in n for n in s["notices"])


def test_faults_are_retried_and_failures_isolated(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    fake.inject("http_429", path="/v1/text_to_video", retry_after=0)
    fake.inject("http_503", path="/v1/text_to_image")
    fake.inject("http_500", path="/v1/organization")
    fake.inject("task_failed", path="/v1/sound_effect", code="INTERNAL.BAD_OUTPUT.CODE01")
    fake.inject(
        "task_failed", path="/v1/text_to_speech", code="SAFETY.INPUT.TEXT", failure="The text was refused"
    )
    fake.inject("expired_output", times=1)
    code, out, err = run(["build", str(spec), "--yes", *FAST], capsys)
    s = summary(out)
    assert code == 1
    assert [f["asset"] for f in s["failed"]] == ["harbour.narration"]
    assert "SAFETY.INPUT.TEXT" in s["failed"][0]["error"] and "harbour" in s["failed"][0]["error"]
    assert s["generated"] == 5  # everything else was made, INTERNAL retried, expired URL re-fetched
    assert fake.create_count("sound_effect") == 2 and fake.create_count("text_to_speech") == 1
    fake.reset_counters()
    fake.clear_faults()
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 0 and fake.create_count() == 1  # only the failed narration is made again


def test_refused_key_is_a_clear_message(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.valid_keys = {"another-key"}
    code, out, err = run(["build", str(write_spec(tmp_path)), "--yes", *FAST], capsys)
    assert code == 1
    assert "the API key was refused; set RUNWAYML_API_SECRET" in err
    assert fake.create_count() == 0


def test_locked_fails_before_spending(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    code, _, err = run(["build", str(spec), "--yes", "--locked", *FAST], capsys)
    assert code == 1 and "--locked" in err and fake.create_count() == 0
    assert run(["build", str(spec), "--yes", *FAST], capsys)[0] == 0
    assert run(["build", str(spec), "--locked", *FAST], capsys)[0] == 0
    write_spec(tmp_path, "A different line.")
    fake.reset_counters()
    code, _, err = run(["build", str(spec), "--yes", "--locked", *FAST], capsys)
    assert code == 1 and "harbour.narration" in err and fake.create_count() == 0


def test_spending_needs_consent(fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["build", str(write_spec(tmp_path)), "--backend", "runway", *FAST], capsys)
    assert code == 1 and "--yes" in err and fake.create_count() == 0


def test_runway_without_a_key_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["build", str(write_spec(tmp_path)), "--backend", "runway", "--yes", *FAST], capsys)
    assert code == 1 and "RUNWAYML_API_SECRET is not set" in err


def test_killed_build_resumes_without_paying_twice(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    with FakeRunwayProcess(latency=2.5) as server:
        env = dict(os.environ, RUNWAYML_API_SECRET=KEY, RUNWAYML_BASE_URL=server.url)
        cmd = [
            sys.executable,
            "-m",
            "vidspec",
            "build",
            str(spec),
            "--yes",
            "--poll-scale",
            "0.05",
            "--json",
            "--no-stitch",
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        journal = tmp_path / ".vidspec" / "journal"
        deadline = time.monotonic() + 30

        def submitted() -> int:  # journal entries holding a task id (not a create still on the wire)
            return sum(1 for p in journal.glob("*.json") if json.loads(p.read_text() or "{}").get("task_id"))

        while time.monotonic() < deadline and submitted() < 5:
            time.sleep(0.02)
        assert submitted() == 5, "tasks never went in flight"
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert server.stats()["create_count"] == 5
        assert any(t["status"] != "SUCCEEDED" for t in server.stats()["tasks"].values())
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr
        stats = server.stats()
        bodies = [json.dumps(c["body"], sort_keys=True) for c in stats["creates"]]
        assert len(bodies) == len(set(bodies)) == 6  # every unique request submitted once, across the kill
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and server.stats()["create_count"] == 6
        assert '"cached": 6' in again.stdout


def test_the_key_never_lands_on_disk_or_in_output(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    fake.inject("task_failed", path="/v1/text_to_speech", code="SAFETY.INPUT.TEXT")
    fake.inject("timeout_after_create", path="/v1/sound_effect", then="drop")
    code, out, err = run(["build", str(spec), "--yes", *FAST], capsys)
    assert KEY not in out + err
    fake.valid_keys = {"x"}
    run(["build", str(spec), "--yes", *FAST], capsys)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def _interactive_build(spec: Path, url: str, answer: str) -> tuple[int, str]:
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, RUNWAYML_API_SECRET=KEY, RUNWAYML_BASE_URL=url, COLUMNS="120")
    cmd = [sys.executable, "-m", "vidspec", "build", str(spec), "--poll-scale", "0.02", "--no-stitch"]
    proc = subprocess.Popen(cmd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"Spend " in seen and b"[y/N]" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
    os.close(master)
    return proc.wait(30), re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))


def test_a_terminal_user_is_asked_before_spending(fake: FakeRunway, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    code, screen = _interactive_build(spec, fake.url, "n")
    assert code == 1 and "Spend 80 credits ($0.80)?" in screen and "nothing was spent" in screen
    assert "to spend: 80 credits" in screen  # the plan was shown before the question
    assert fake.create_count() == 0
    code, screen = _interactive_build(spec, fake.url, "y")
    assert code == 0, screen[-2000:]
    assert fake.create_count() == 6


def test_output_may_not_destroy_an_input(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "self.yaml"
    text = 'version: 1\noutput: {path: self.yaml}\nscenes:\n  - {id: a, prompt: "Dawn over a lake, aerial"}\n'
    spec.write_text(text)
    code, _, err = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 1 and "must be an .mp4 or .mov file" in err
    shutil.copy(ROOT / "examples" / "assets" / "street.mp4", tmp_path / "in.mp4")
    restyle = 'version: 1\noutput: {path: in.mp4}\nscenes:\n  - {id: a, model: aleph2, video: in.mp4, prompt: "Snow"}\n'
    spec.write_text(restyle)
    before = (tmp_path / "in.mp4").read_bytes()
    code, _, err = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 1 and "is an input of the project" in err
    assert (tmp_path / "in.mp4").read_bytes() == before
    (tmp_path / "build" / "out.mp4").mkdir(parents=True)
    spec.write_text(text.replace("self.yaml", "build/out.mp4"))
    code, _, err = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 1 and "is a directory" in err and fake.create_count() == 0


def test_a_refused_create_leaves_no_possibly_billed_trace(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    fake.inject("http_401", path="/v1/text_to_video", times=5)
    code, out, _ = run(["build", str(spec), "--yes", "--concurrency", "1", *FAST], capsys)
    failed = summary(out)["failed"]
    assert code == 1 and [f["asset"] for f in failed] == ["harbour.video", "market.video"]
    assert all("API key was refused" in f["error"] for f in failed)
    journal = tmp_path / ".vidspec" / "journal"
    assert not any('"task_id": null' in p.read_text() for p in journal.glob("*.json"))
    fake.clear_faults()
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    s = summary(out)
    assert code == 0 and s["credits_possibly_billed"] == 0 and s["notices"] == []


def test_failed_tasks_that_were_charged_are_in_the_total(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    fake.inject("task_failed", path="/v1/text_to_video", code="SAFETY.INPUT.TEXT")
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    s = summary(out)
    billed = sum(t["cost"] or 0 for t in fake.stats()["tasks"].values())
    assert code == 1 and s["credits_charged"] == billed == 80  # the refused video was charged too


def test_two_builds_on_one_cache_do_not_both_submit(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    with FakeRunwayProcess(latency=2.0) as server:
        env = dict(os.environ, RUNWAYML_API_SECRET=KEY, RUNWAYML_BASE_URL=server.url)
        cmd = [sys.executable, "-m", "vidspec", "build", str(spec), "--yes", "--json", "--no-stitch"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.stats()["create_count"] == 0:
            time.sleep(0.05)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "another vidspec build" in second.stderr
        assert first.wait(60) == 0
        assert server.stats()["create_count"] == 6


def test_a_key_that_cannot_be_a_header_is_refused_without_echoing_it(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", "sekrit-part\r\nX-Evil: 1")
    code, out, err = run(["build", str(write_spec(tmp_path)), "--yes", *FAST], capsys)
    assert code == 1 and "cannot go in an HTTP header" in err
    assert "sekrit" not in out + err and fake.create_count() == 0
