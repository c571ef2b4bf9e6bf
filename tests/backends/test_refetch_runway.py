"""A damaged or missing cached clip is fetched again from its recorded task (0 creates), and never reaches a final
cut; a task that is gone makes the plan price a new create, which a build pays for only with consent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends.test_build_runway import KEY, SMALL
from tests.helpers import run, summary
from vidspec.media.probe import MediaInfo, probe
from vidspec.store.cache import Cache, forget_verifications
from vidspec.testing.fake_runway import FakeRunway

pytestmark = pytest.mark.slow  # end-to-end: the fake server, real media, the stitcher

BUILD = ["build", "--poll-scale", "0.02", "--json"]
CLIP = "market.video"  # a 2 s gen4.5 clip, 24 credits


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.15) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


@pytest.fixture(autouse=True)
def _new_process() -> None:
    forget_verifications()  # each CLI run here stands for a new process


def write_spec(tmp: Path) -> Path:
    """The build tests' small film (narration, a sound, a generated reference image), cut small and fast."""
    spec = tmp / "small.yaml"
    text = SMALL.format(narration="Every morning starts here.")
    spec.write_text(
        text.replace("name: small\n", 'name: small\noutput: {ratio: "640:360", preset: ultrafast}\n')
    )
    return spec


def built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *, cut: bool = True
) -> tuple[Path, MediaInfo | None]:
    """A full build (with its final cut, and the cut's facts, when ``cut``)."""
    spec = write_spec(tmp_path)
    code, out, err = run([*BUILD, str(spec), "--yes", *(() if cut else ("--no-stitch",))], capsys)
    assert code == 0, err
    return spec, probe(Path(summary(out)["output"])) if cut else None


def clip(spec: Path) -> tuple[Path, str, str, int]:
    """(object path, task id, key, credits) of CLIP, from the lockfile and the cache."""
    entry = json.loads(spec.with_name("small.lock.json").read_text())["assets"][CLIP]
    found = Cache.for_spec(spec).store("runway").check(entry["key"])
    assert found.path is not None
    return found.path, entry["task_id"], entry["key"], entry["credits_estimated"]


def damage(path: Path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:  # same size, bytes flipped inside the file
        data = bytearray(path.read_bytes())
        for i in range(len(data) // 3, len(data) // 3 + 64):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))


def plan_row(spec: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, object], dict[str, object]]:
    code, out, err = run(["plan", "--json", str(spec)], capsys)
    assert code == 0, err
    data = json.loads(out)
    row = next(a for s in data["scenes"] for a in s["assets"] if a["name"] == CLIP)
    return data, row


def same_film(a: MediaInfo | None, b: MediaInfo) -> None:
    assert a is not None and (a.width, a.height, a.fps) == (640, 360, 24.0)
    assert (b.width, b.height, b.fps, b.video_codec, b.audio_codec) == (
        a.width, a.height, a.fps, a.video_codec, a.audio_codec,
    )  # fmt: skip
    assert b.has_video and b.has_audio and b.duration == pytest.approx(a.duration, abs=1 / 24)


def delete_task(fake: FakeRunway, task_id: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "X-Runway-Version": "2024-11-06"}
    assert httpx.delete(f"{fake.url}/v1/tasks/{task_id}", headers=headers).status_code == 204


@pytest.mark.parametrize("how", ["flipped", "truncated", "deleted"])
def test_a_damaged_clip_is_fetched_again_from_its_task(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    spec, film = built(tmp_path, capsys)
    path, task_id, _, _ = clip(spec)
    good = path.read_bytes()
    damage(path, how)

    data, row = plan_row(spec, capsys)
    why = "cached file missing" if how == "deleted" else "cached file damaged (sha256 mismatch)"
    assert (row["action"], row["reason"], row["cached"]) == ("refetch", why, False)
    assert data["to_spend_credits"] == 0
    code, out, _ = run(["plan", "--detailed-exitcode", str(spec)], capsys)
    assert code == 0 and "refetch (0 credits)" in out, out
    assert (
        "to fetch again: 1 damaged or missing cached file, from the tasks that made them (0 credits)" in out
    )

    fake.reset_counters()
    # No --yes: fetching again is free, so it needs no consent. --force-stitch cuts the film again from it.
    code, out, err = run([*BUILD, str(spec), "--force-stitch"], capsys)
    s = summary(out)
    assert code == 0, err
    assert fake.create_count() == 0 and fake.downloads == 1 and set(fake.task_polls) == {task_id}
    assert (s["refetched"], s["generated"], s["cached"], s["credits_charged"]) == (1, 0, 5, 0)
    assert path.read_bytes() == good
    quarantine = list((tmp_path / ".vidspec" / "runway" / "quarantine").glob("*"))
    assert len(quarantine) == (0 if how == "deleted" else 1)
    same_film(film, probe(Path(s["output"])))
    assert s["stitched"] is True


def test_force_stitch_never_cuts_a_damaged_clip_whose_task_is_gone(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, film = built(tmp_path, capsys)
    path, task_id, key, credits = clip(spec)
    damage(path, "flipped")
    delete_task(fake, task_id)
    output = tmp_path / "build" / "small.mp4"
    before = output.stat().st_mtime_ns

    data, row = plan_row(spec, capsys)
    assert row["action"] == "regenerate" and row["credits"] == credits == 24
    assert row["reason"] == "cached file damaged (sha256 mismatch), and its task is gone from Runway"
    assert data["to_spend_credits"] == 24

    fake.reset_counters()
    code, _, err = run([*BUILD, str(spec), "--force-stitch"], capsys)  # no consent to spend
    assert code == 1 and "24 credits" in err and "--yes" in err
    assert fake.create_count() == 0 and output.stat().st_mtime_ns == before

    code, out, err = run([*BUILD, str(spec), "--force-stitch", "--yes"], capsys)
    s = summary(out)
    assert code == 0, err
    assert [c[0] for c in fake.creates] == ["text_to_video"] and s["credits_charged"] == 24
    assert s["generated"] == 1 and s["stitched"] is True
    assert Cache.for_spec(spec).store("runway").check(key).ok
    assert len(list((tmp_path / ".vidspec" / "runway" / "quarantine").glob("*"))) == 1
    same_film(film, probe(output))


def test_an_output_that_keeps_expiring_is_not_paid_for_without_a_plan(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, _ = built(tmp_path, capsys, cut=False)
    path, _, key, _ = clip(spec)
    path.unlink()
    fake.inject("expired_output", times=10)  # the task is there, but its output cannot be had any more
    fake.reset_counters()
    code, out, err = run([*BUILD, str(spec), "--yes", "--no-stitch"], capsys)
    s = summary(out)
    assert code == 1 and fake.create_count() == 0  # the plan said refetch: --yes did not consent to a create
    assert [f["asset"] for f in s["failed"]] == [CLIP]
    assert "vidspec plan" in s["failed"][0]["error"] and "24 credits" in s["failed"][0]["error"]
    fake.clear_faults()
    _, row = plan_row(spec, capsys)  # the build remembered that the task's output is gone
    assert (row["action"], row["reason_code"]) == ("regenerate", "task_gone")
    code, out, err = run([*BUILD, str(spec), "--yes", "--no-stitch"], capsys)
    assert code == 0, err
    assert fake.create_count() == 1 and Cache.for_spec(spec).store("runway").check(key).ok


def test_refetching_needs_the_key_but_no_consent(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = built(tmp_path, capsys, cut=False)
    path, _, _, _ = clip(spec)
    path.unlink()
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    _, row = plan_row(spec, capsys)  # without a key the task cannot be asked: it is assumed to be there
    assert row["action"] == "refetch"
    code, _, err = run([*BUILD, str(spec), "--backend", "runway", "--no-stitch"], capsys)
    assert code == 1 and "RUNWAYML_API_SECRET" in err and "fetched again" in err
    assert fake.create_count() == 6 and not path.exists()  # only the first build's creates


def test_a_damaged_clip_in_a_cut_is_caught_by_the_stitcher_too(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidspec.media import timeline as timeline_mod

    spec, _ = built(tmp_path, capsys)
    path, _, _, _ = clip(spec)
    output = tmp_path / "build" / "small.mp4"
    before = output.stat().st_mtime_ns
    real = timeline_mod.build_timeline

    def damaged_after_the_build(*args: object, **kwargs: object) -> object:
        damage(path, "flipped")  # after the executor checked it, before the stitcher reads it
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(timeline_mod, "build_timeline", damaged_after_the_build)
    code, _, err = run([*BUILD, str(spec), "--force-stitch"], capsys)
    assert code == 1 and "sha256" in err and str(path) in err
    assert output.stat().st_mtime_ns == before  # the cut was not replaced
