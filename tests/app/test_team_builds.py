"""Team builds end to end: two checkouts ("machines"), each with its own local cache, one bucket on a real S3
API (moto's server on loopback) and the fake Runway API. Nobody pays twice, a damaged team object is never
used, a dead builder's leases are taken over, and a store that goes down costs one warning."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AWS_SECRET, S3Server, free_port
from tests.helpers import run, summary
from vidspec.media.probe import probe
from vidspec.testing import FakeRunway

pytestmark = pytest.mark.slow  # real media, fake servers, subprocesses

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--backend", "runway", "--poll-scale", "0.02", "--json"]

SPEC = """\
version: 1
name: team
defaults: {ratio: "1280:720", duration: 2, voice: Maya}
output: {ratio: "320:180", fps: 12, preset: ultrafast}
scenes:
  - id: harbour
    prompt: "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
    narration: "Every morning starts here."
  - id: jar
    model: gen4_turbo
    duration: 2
    image:
      prompt: "Studio photo of a jar of sambal on slate"
      ratio: "1280:720"
    prompt: "Slow push toward the jar"
"""
N = 4  # unique assets: harbour video and narration, jar image and video


def checkout(tmp: Path, name: str) -> Path:
    """One teammate's clone: the spec in its own folder (its cache is .vidspec beside it)."""
    d = tmp / name
    d.mkdir()
    spec = d / "team.yaml"
    spec.write_text(SPEC, "utf-8")
    return spec


def bucket_names(server: S3Server, url: str, part: str) -> list[str]:
    bucket, prefix = url[len("s3://") :].split("/", 1)
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
    return [o["Key"] for p in pages for o in p.get("Contents", []) if f"/{part}/" in o["Key"]]


def lock_shas(spec: Path) -> dict[str, str]:
    lock = json.loads(spec.with_name("team.lock.json").read_text("utf-8"))
    return {name: e["output_sha256"] for name, e in lock["assets"].items()}


def plan_json(spec: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    code, out, err = run(["plan", str(spec), "--json", "--cache-url", url], capsys)
    assert code == 0, err
    return json.loads(out), err


def rows(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for s in plan["scenes"] for a in s["assets"]}


def no_secret_under(*roots: Path) -> None:
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file():
                assert AWS_SECRET.encode() not in p.read_bytes(), p


def test_second_machine_downloads_everything_and_pays_nothing(
    fake_runway: FakeRunway,
    team_bucket: str,
    s3_server: S3Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = checkout(tmp_path, "alice"), checkout(tmp_path, "bob")
    code, out, err = run(["build", str(a), "--yes", "--cache-url", team_bucket, *FAST], capsys)
    assert code == 0, err
    assert fake_runway.create_count() == N
    assert summary(out)["team_cache"] == {"url": team_bucket, "downloaded": 0, "uploaded": N, "down": False}
    assert len(bucket_names(s3_server, team_bucket, "records")) == N  # uploaded: object and record
    assert bucket_names(s3_server, team_bucket, "leases") == []  # released
    fake_runway.reset_counters()

    plan, _ = plan_json(b, team_bucket, capsys)
    assert plan["to_spend_credits"] == 0
    assert plan["team_cache"] == {"url": team_bucket, "down": False, "downloaded": N, "warnings": []}
    assert {(r["action"], r["tier"]) for r in rows(plan).values()} == {("cached", "team")}
    other = ["--cache-dir", str(tmp_path / "bob-laptop")]
    code, out, err = run(["plan", str(b), "--cache-url", team_bucket, *other], capsys)
    assert code == 0 and out.count("cached (team), 0 credits") == N
    assert f"team cache: {team_bucket}, {N} downloaded (sha256 checked)" in out
    again, _ = plan_json(b, team_bucket, capsys)  # now in bob's local cache
    assert {r["tier"] for r in rows(again).values()} == {"local"}

    code, out, err = run(["build", str(b), "--cache-url", team_bucket, *FAST], capsys)  # no --yes needed
    assert code == 0, err
    s = summary(out)
    assert fake_runway.create_count() == 0 and s["cached"] == N and s["credits_charged"] == 0
    assert s["team_cache"]["downloaded"] == 0  # the plans before already put them in bob's local cache
    assert lock_shas(a) == lock_shas(b)
    c = checkout(tmp_path, "carol")  # a fresh clone with the committed lockfile
    (c.parent / "team.lock.json").write_bytes((a.parent / "team.lock.json").read_bytes())
    code, _, _ = run(["lock", str(c), "--check"], capsys)
    assert code == 1  # nothing in carol's local cache
    code, out, err = run(["lock", str(c), "--check", "--cache-url", team_bucket], capsys)
    assert code == 0, out + err
    cut_a, cut_b = probe(Path(summary_output(a))), probe(Path(summary_output(b)))
    assert cut_a == cut_b  # duration, streams, size, codecs
    assert AWS_SECRET not in out + err
    no_secret_under(tmp_path)
    bucket, _ = team_bucket[len("s3://") :].split("/", 1)
    client = s3_server.client()
    for key in bucket_names(s3_server, team_bucket, "records"):
        assert AWS_SECRET.encode() not in client.get_object(Bucket=bucket, Key=key)["Body"].read()


def summary_output(spec: Path) -> str:
    return str(spec.parent / "build" / "team.mp4")


def _build_cmd(spec: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "vidspec", "build", str(spec), "--yes", "--cache-url", url, *FAST, *extra]


def _env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), **extra)


def test_two_builders_at_once_pay_once_and_both_get_the_film(
    team_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeRunway(latency=0.8) as fake:
        monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        a, b = checkout(tmp_path, "alice"), checkout(tmp_path, "bob")
        procs = [
            subprocess.Popen(_build_cmd(s, team_bucket), env=_env(), stdout=subprocess.PIPE, text=True)
            for s in (a, b)
        ]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        assert fake.create_count() == N  # one create per unique asset, in total
        downloaded = sum(1 for o in outs for line in o.splitlines() if "made by another builder" in line)
        assert downloaded >= 1
        assert lock_shas(a) == lock_shas(b)
        assert probe(Path(summary_output(a))) == probe(Path(summary_output(b)))


def test_a_dead_builders_leases_are_taken_over_after_they_expire(
    team_bucket: str,
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeRunway(latency=3.0) as fake:
        monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        monkeypatch.setenv("VIDSPEC_LEASE_TTL", "2")
        a, b = checkout(tmp_path, "alice"), checkout(tmp_path, "bob")
        proc = subprocess.Popen(
            _build_cmd(a, team_bucket), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(bucket_names(s3_server, team_bucket, "leases")) < 2:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        held = len(bucket_names(s3_server, team_bucket, "leases"))
        assert held >= 2
        assert bucket_names(s3_server, team_bucket, "records") == []

        plan, _ = plan_json(b, team_bucket, capsys)  # the leases are still live
        elsewhere = [r for r in rows(plan).values() if r["elsewhere"]]
        assert len(elsewhere) == held and all("being generated elsewhere" in r["reason"] for r in elsewhere)
        code, out, _ = run(["plan", str(b), "--cache-url", team_bucket], capsys)
        assert "being generated elsewhere" in out

        bucket = team_bucket[len("s3://") :].split("/", 1)[0]
        client = s3_server.client()
        expiries = [
            json.loads(client.get_object(Bucket=bucket, Key=k)["Body"].read())["expires_at"]
            for k in bucket_names(s3_server, team_bucket, "leases")
        ]
        fake.reset_counters()
        code, out, err = run(["build", str(b), "--yes", "--cache-url", team_bucket, *FAST], capsys)
        assert code == 0, err
        assert time.time() >= min(expiries)  # nothing was taken over before its lease expired
        assert fake.create_count() == N  # each asset paid once, by the survivor
        assert summary(out)["generated"] == N
        assert bucket_names(s3_server, team_bucket, "leases") == []
        assert len(bucket_names(s3_server, team_bucket, "records")) == N


def test_a_corrupted_team_object_is_never_used_and_regenerated_only_with_consent(
    fake_runway: FakeRunway,
    team_bucket: str,
    s3_server: S3Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b, c = checkout(tmp_path, "alice"), checkout(tmp_path, "bob"), checkout(tmp_path, "carol")
    code, out, err = run(["build", str(a), "--yes", "--cache-url", team_bucket, *FAST, "--no-stitch"], capsys)
    assert code == 0, err
    plan_a, _ = plan_json(a, team_bucket, capsys)
    narration = rows(plan_a)["harbour.narration"]
    bucket, _ = team_bucket[len("s3://") :].split("/", 1)
    obj = next(k for k in bucket_names(s3_server, team_bucket, "objects") if narration["key"][7:] in k)
    client = s3_server.client()
    body = bytearray(client.get_object(Bucket=bucket, Key=obj)["Body"].read())
    body[len(body) // 2] ^= 0xFF  # one flipped byte: same size
    client.put_object(Bucket=bucket, Key=obj, Body=bytes(body))
    fake_runway.reset_counters()

    plan, err = plan_json(b, team_bucket, capsys)
    r = rows(plan)
    assert r["harbour.narration"]["action"] in ("create", "regenerate")
    assert plan["to_spend_credits"] == narration["credits"]
    assert [n for n, x in r.items() if x["action"] == "cached"] == [n for n in r if n != "harbour.narration"]
    assert err.count("does not match the sha256") == 1
    assert not any(bytes(body) == p.read_bytes() for p in (b.parent / ".vidspec").rglob("*") if p.is_file())

    code, out, err = run(["build", str(b), "--cache-url", team_bucket, *FAST, "--no-stitch"], capsys)
    assert code == 1 and "--yes" in err and fake_runway.create_count() == 0  # no consent: nothing spent
    code, out, err = run(["build", str(b), "--yes", "--cache-url", team_bucket, *FAST, "--no-stitch"], capsys)
    assert code == 0, err
    assert fake_runway.create_count() == 1
    assert any("does not match the sha256" in n for n in summary(out)["notices"])
    plan_c, _ = plan_json(c, team_bucket, capsys)  # the team copy was replaced by a good one
    assert plan_c["to_spend_credits"] == 0


def test_a_closed_port_costs_one_warning_and_the_build_goes_on_locally(
    fake_runway: FakeRunway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("VIDSPEC_CACHE_URL", "s3://team-bucket/films")  # the environment variable
    a = checkout(tmp_path, "alice")
    code, out, err = run(["build", str(a), "--yes", *FAST, "--no-stitch"], capsys)
    assert code == 0, err
    s = summary(out)
    assert s["generated"] == N and fake_runway.create_count() == N
    warnings = [n for n in s["notices"] if "team cache" in n]
    assert len(warnings) == 1 and "going on with the local cache alone" in warnings[0]
    code, out, err = run(["build", str(a), *FAST, "--no-stitch"], capsys)  # all local: still one warning
    assert code == 0 and summary(out)["cached"] == N
    assert len([n for n in summary(out)["notices"] if "team cache" in n]) == 1
    assert AWS_SECRET not in out + err


def test_the_store_stopping_mid_build_costs_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = S3Server()  # its own: this test stops it
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        server.client().create_bucket(Bucket="team-mid")
        url = "s3://team-mid/films"
        with FakeRunway(latency=1.0) as fake:
            monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
            monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)

            def stop_when_leased() -> None:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not bucket_names(server, url, "leases"):
                    time.sleep(0.05)
                server.stop()

            stopper = threading.Thread(target=stop_when_leased)
            stopper.start()
            a = checkout(tmp_path, "alice")
            code, out, err = run(["build", str(a), "--yes", "--cache-url", url, *FAST, "--no-stitch"], capsys)
            stopper.join()
            assert code == 0, err
            s = summary(out)
            assert s["generated"] == N and s["failed"] == [] and fake.create_count() == N
            warnings = [n for n in s["notices"] if "team cache" in n]
            assert len(warnings) == 1, warnings
    finally:
        server.stop()


def test_403_stops_before_anything_is_spent(
    fake_runway: FakeRunway,
    s3_server: S3Server,
    team_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import httpx

    a = checkout(tmp_path, "alice")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNUNKNOWN00")
    httpx.post(f"{s3_server.url}/moto-api/reset-auth", content=b"0")
    try:
        code, out, err = run(["build", str(a), "--yes", "--cache-url", team_bucket, *FAST], capsys)
        pcode, _, perr = run(["plan", str(a), "--cache-url", team_bucket], capsys)
    finally:
        httpx.post(f"{s3_server.url}/moto-api/reset-auth", content=b"inf")
    assert code == 1 and pcode == 1
    assert "refused" in err and "403" in err and "refused" in perr
    assert fake_runway.create_count() == 0
    assert AWS_SECRET not in out + err + perr


def test_a_shared_directory_serves_as_the_team_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "nfs" / "films-cache"
    shared.mkdir(parents=True)
    monkeypatch.setenv("VIDSPEC_CACHE_URL", shared.as_uri())
    a, b = checkout(tmp_path, "alice"), checkout(tmp_path, "bob")
    args = ["--backend", "preview", "--json", "--no-stitch"]
    code, out, err = run(["build", str(a), *args], capsys)
    assert code == 0, err
    assert summary(out)["team_cache"]["uploaded"] == N
    assert len(list((shared / "preview" / "records").rglob("*.json"))) == N
    code, out, err = run(["build", str(b), *args], capsys)
    assert code == 0, err
    s = summary(out)
    assert s["generated"] == 0 and s["cached"] == N and s["team_cache"]["downloaded"] == N
    assert s["team_cache"]["uploaded"] == 0


def test_local_entries_the_team_cache_lacks_are_shared_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a = checkout(tmp_path, "alice")
    args = ["--backend", "preview", "--json", "--no-stitch"]
    code, out, err = run(["build", str(a), *args], capsys)  # before the team had a cache
    assert code == 0, err
    shared = tmp_path / "films-cache"
    shared.mkdir()
    code, out, err = run(["build", str(a), *args, "--cache-url", shared.as_uri()], capsys)
    assert code == 0, err
    s = summary(out)
    assert s["cached"] == N and s["team_cache"]["uploaded"] == N
    code, out, err = run(["build", str(a), *args, "--cache-url", shared.as_uri()], capsys)
    assert summary(out)["team_cache"]["uploaded"] == 0
