"""Money across runs against the fake Runway: the spec's `budget` holds in total, `--max-credits` caps one run,
a create that may already be billed is resubmitted only with --resubmit-ambiguous, and the API's own estimate
is recorded next to vidspec's."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run, summary
from vidspec.testing.fake_runway import FakeRunway, FakeRunwayProcess, Fault

pytestmark = pytest.mark.slow  # end-to-end: the fake server over real HTTP

KEY = "test-key-not-real-5b1e"
FAST = ["--poll-scale", "0.02", "--json", "--no-stitch"]
BALANCE = 100_000

SMALL = """\
version: 1
name: small
{budget}
defaults: {{ratio: "1280:720", duration: 2, voice: Maya}}
scenes:
  - id: harbour
    prompt: "{prompt}"
    narration: "Every morning starts here."
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
"""  # 80 credits: videos 24 + 24 + 25, image 5, narration 1, sound 1
HARBOUR = "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"


def write_spec(tmp: Path, budget: int | None = None, prompt: str = HARBOUR) -> Path:
    spec = tmp / "small.yaml"
    spec.write_text(SMALL.format(budget=f"budget: {budget}" if budget else "", prompt=prompt), "utf-8")
    return spec


class LossyRunway(FakeRunway):
    """Loses the answer of a share of the creates, drawn from a seeded generator: the task is still made and
    billed (the fake's `timeout_after_create` fault, then the connection dropped)."""

    def __init__(self, loss: float, seed: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.loss = loss
        self.rng = random.Random(seed)
        self.lost = 0

    def _take(
        self, kinds: tuple[str, ...], path: str, method: str, model: str | None = None,
        task_id: str | None = None,
    ) -> Fault | None:  # fmt: skip
        if kinds == ("timeout_after_create",) and self.rng.random() < self.loss:
            self.lost += 1
            return Fault("timeout_after_create", params={"then": "drop"})
        return super()._take(kinds, path, method, model, task_id)


def billed(fake: FakeRunway) -> int:
    """What the fake itself has billed so far (running tasks included)."""
    return BALANCE - fake.credit_balance()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.15, credit_balance=BALANCE) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


def plan_json(spec: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code, out, err = run(["plan", "--json", str(spec), *extra], capsys)
    assert out, err
    data: dict[str, Any] = json.loads(out)
    return data


# ------------------------------------------------------------------------------------------ item 1


@pytest.mark.parametrize("seed", [3, 7, 8])  # each loses at least 2 of its first 6 creates
def test_the_spec_budget_holds_in_total_across_runs_under_lost_responses(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = 110
    spec = write_spec(tmp_path, budget)
    with LossyRunway(0.3, seed, latency=0.15, credit_balance=BALANCE) as fake:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        outcome = ""
        for _ in range(12):  # again and again, as the build's own message suggests, until done or refused
            before = fake.create_count()
            code, out, err = run(["build", str(spec), "--yes", "--resubmit-ambiguous", *FAST], capsys)
            assert billed(fake) <= budget, f"the fake billed {billed(fake)} credits over the budget {budget}"
            # vidspec never counts less than the fake billed, and counts each billed task once
            spent = plan_json(spec, capsys)["spent_credits"]
            assert spent == billed(fake), (spent, billed(fake))
            if code == 0:
                outcome = "built"
                break
            if fake.create_count() == before:
                assert "budget" in err, err
                outcome = "refused"
                break
        assert outcome, "neither built nor refused after 12 runs"
        assert fake.lost > 0  # the faults did fire


def test_max_credits_caps_what_this_run_spends_not_a_build_from_nothing(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    assert run(["build", str(spec), "--yes", *FAST], capsys)[0] == 0
    write_spec(tmp_path, prompt="Fishing boats rock in a quiet harbour at dusk, slow aerial dolly")
    data = plan_json(spec, capsys, "--max-credits", "30")
    assert data["this_build_credits"] == 24 and data["max_credits"] == 30
    assert data["within_max_credits"] is True and data["spent_credits"] == 80
    fake.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", "--max-credits", "30", *FAST], capsys)
    assert code == 0, err  # 24 to spend fits a cap of 30, though a build from nothing costs 80
    assert fake.create_count() == 1
    s = summary(out)
    assert s["budget"]["this_build_credits"] == 24 and s["budget"]["max_credits"] == 30
    write_spec(tmp_path, prompt="Fishing boats rock in a quiet harbour at noon, slow aerial dolly")
    fake.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", "--max-credits", "20", *FAST], capsys)
    assert code == 1 and "--max-credits" in err and fake.create_count() == 0


def test_plan_and_summary_show_spent_this_build_and_left(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, budget=150)
    data = plan_json(spec, capsys)
    assert (data["spent_credits"], data["this_build_credits"], data["budget_left"]) == (0, 80, 70)
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 0
    money = summary(out)["budget"]
    assert money["spent_credits"] == 0 and money["this_build_credits"] == 80
    assert money["budget"] == 150 and money["budget_left"] == 70
    write_spec(
        tmp_path, budget=150, prompt="Fishing boats rock in a quiet harbour at dusk, slow aerial dolly"
    )
    data = plan_json(spec, capsys)
    assert data["spent"] == {"charged": 80, "in_flight": 0, "possibly_billed": 0}
    assert (data["spent_credits"], data["this_build_credits"], data["budget_left"]) == (80, 24, 46)
    assert data["within_budget"] is True and data["budget"] == 150
    code, out, _ = run(["plan", str(spec)], capsys)
    assert "spent so far 80 credits" in out and "this build 24" in out and "46 left" in out
    write_spec(
        tmp_path, budget=100, prompt="Fishing boats rock in a quiet harbour at dusk, slow aerial dolly"
    )
    code, out, err = run(["plan", "--json", str(spec)], capsys)
    assert code == 1 and json.loads(out)["within_budget"] is False and "VS601" in err
    fake.reset_counters()
    code, _, err = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 1 and "budget" in err and fake.create_count() == 0  # 80 spent + 24 > 100


# ------------------------------------------------------------------------------------------ item 2


def test_yes_alone_never_resubmits_a_create_that_may_be_billed(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    fake.inject("timeout_after_create", path="/v1/text_to_image", then="drop")
    code, out, err = run(["build", str(spec), "--yes", *FAST], capsys)
    s = summary(out)
    assert code == 1
    assert fake.create_count("text_to_image") == 1  # not sent again
    assert [f["asset"] for f in s["failed"]] == ["jar.image", "jar.video"]
    assert s["generated"] == 4  # the rest of the build went on
    message = s["failed"][0]["error"]
    assert "--resubmit-ambiguous" in message and "jar.image" in message and "5 credits" in message
    assert any("--resubmit-ambiguous" in n and "jar.image" in n for n in s["notices"])
    fake.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", *FAST], capsys)  # the resume with --yes: still held
    assert code == 1 and fake.create_count() == 0
    assert "--resubmit-ambiguous" in summary(out)["failed"][0]["error"]
    code, out, err = run(["build", str(spec), "--yes", "--resubmit-ambiguous", *FAST], capsys)
    assert code == 0, err
    assert fake.create_count("text_to_image") == 1 and fake.create_count() == 2  # the image, then its video
    assert plan_json(spec, capsys)["spent_credits"] == billed(fake) == 85  # the lost image counted once


def test_a_kill_with_a_create_on_the_wire_is_resumed_only_with_the_flag(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    with FakeRunwayProcess(latency=0.3) as server:
        # The image's create is made (and billed) at once, but its answer comes only after 30 s.
        server.inject("timeout_after_create", path="/v1/text_to_image", then="respond", delay=30)
        env = dict(os.environ, RUNWAYML_API_SECRET=KEY, RUNWAYML_BASE_URL=server.url)
        cmd = [sys.executable, "-m", "vidspec", "build", str(spec), "--yes", "--poll-scale", "0.05"]
        cmd += ["--json", "--no-stitch"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            c["endpoint"] == "text_to_image" for c in server.stats()["creates"]
        ):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # the create is on the wire; its intent was journaled before it left
        proc.communicate()

        def images() -> int:
            return sum(1 for c in server.stats()["creates"] if c["endpoint"] == "text_to_image")

        assert images() == 1
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
        assert done.returncode == 1 and images() == 1  # --yes alone: not sent again
        failed = {f["asset"]: f["error"] for f in json.loads(done.stdout.strip().splitlines()[-1])["failed"]}
        assert "--resubmit-ambiguous" in failed["jar.image"] and "5 credits at stake" in failed["jar.image"]
        again = subprocess.run(
            cmd + ["--resubmit-ambiguous"], env=env, capture_output=True, text=True, timeout=90
        )
        assert again.returncode == 0, again.stderr
        assert images() == 2
        spend = subprocess.run(
            [sys.executable, "-m", "vidspec", "plan", "--json", str(spec)],
            env=env,
            capture_output=True,
            text=True,
        )
        stats = server.stats()
        assert json.loads(spend.stdout)["spent_credits"] == BALANCE - stats["credit_balance"]


# ------------------------------------------------------------------------------------------ item 21


def test_the_apis_estimate_is_recorded_next_to_vidspecs(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidspec.testing.fake_runway import server as fake_server

    price = fake_server.fake_credits

    def dearer(endpoint: str, model: str, body: Any, seconds: float) -> int:
        return price(endpoint, model, body, seconds) + (6 if model == "gen4.5" else 0)

    monkeypatch.setattr(fake_server, "fake_credits", dearer)  # Runway now prices gen4.5 above the catalogue
    spec = write_spec(tmp_path)
    code, out, _ = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 0
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    warned = {e["asset"] for e in events if e.get("event") == "warning"}
    assert warned == {"harbour.video", "market.video"}
    notes = summary(out)["notices"]
    assert any("harbour.video" in n and "30" in n and "24" in n for n in notes)
    ledger = json.loads((tmp_path / "build" / "small.ledger.json").read_text())
    rows = {r["asset"]: r for r in ledger["assets"]}
    assert (rows["harbour.video"]["credits_estimated"], rows["harbour.video"]["credits_api_estimate"]) == (
        24,
        30,
    )
    assert rows["jar.video"]["credits_api_estimate"] == rows["jar.video"]["credits_estimated"] == 25
    assert rows["harbour.video"]["credits_charged"] == 30


def test_the_apis_estimate_is_in_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeRunway(latency=30) as fake:  # tasks outlive the build: their journal entries stay
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        spec = write_spec(tmp_path)
        code, _, _ = run(["build", str(spec), "--yes", "--task-timeout", "0.2", *FAST], capsys)
        assert code == 1
        entries = [json.loads(p.read_text()) for p in (tmp_path / ".vidspec" / "journal").glob("*.json")]
        assert entries and all(e["task_id"] for e in entries)
        by_name = {e["name"]: e for e in entries}
        assert by_name["harbour.video"]["credits_api_estimate"] == 24
        assert by_name["harbour.video"]["credits_estimated"] == 24


def test_a_cache_without_a_spend_record_starts_from_the_lockfile(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, budget=100)
    assert run(["build", str(spec), "--yes", *FAST], capsys)[0] == 0
    shutil.rmtree(tmp_path / ".vidspec")  # a fresh clone: the lockfile says what the film has cost
    data = plan_json(spec, capsys)
    assert data["spent"]["charged"] == 80 and data["this_build_credits"] == 80
    assert data["within_budget"] is False
    fake.reset_counters()
    code, _, err = run(["build", str(spec), "--yes", *FAST], capsys)
    assert code == 1 and "budget" in err and fake.create_count() == 0
