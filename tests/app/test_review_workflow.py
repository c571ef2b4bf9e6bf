"""Issue 11 (part B) against the fake Runway API: --target, --replace, saved plans and `lock --check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ff, run, summary
from vidspec.core.saved_plan import checksum
from vidspec.testing import FakeRunway

pytestmark = pytest.mark.slow  # a fake server over HTTP, real (tiny) media

FAST = ["--poll-scale", "0.02", "--json"]

SPEC = """\
version: 1
name: review
defaults: {{ratio: "1280:720", duration: 2, voice: Maya}}
scenes:
  - id: harbour
    prompt: "{harbour}"
    narration: "Every morning starts here."
  - id: jar
    model: gen4_turbo
    image:
      prompt: "Studio photo of a jar of sambal on slate"
      ratio: "1280:720"
    prompt: "Slow push toward the jar"
  - id: bowl
    model: gen4_turbo
    image: assets/bowl.jpg
    prompt: "Steam rises from the bowl"
"""
HARBOUR = "Fishing boats rock in a quiet harbour at dawn"


def write_spec(tmp: Path, harbour: str = HARBOUR) -> Path:
    spec = tmp / "review.yaml"
    spec.write_text(SPEC.format(harbour=harbour), "utf-8")
    return spec


def jpg(path: Path, colour: str) -> None:
    ff("-f", "lavfi", "-i", f"color=c={colour}:s=320x180", "-frames:v", "1", str(path))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    jpg(tmp_path / "assets" / "bowl.jpg", "orange")
    return write_spec(tmp_path)


def lock(spec: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(spec.with_name("review.lock.json").read_text())["assets"]
    return data


def plan_json(spec: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(["plan", "--json", str(spec), *args], capsys)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def rows(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for s in plan["scenes"] for a in s["assets"]}


def created(fake: FakeRunway) -> list[str]:
    return [
        body["promptText"] if "promptText" in body else body.get("text", "?") for _, body, _ in fake.creates
    ]


# ---------------------------------------------------------------------------------------------- --target


def test_target_builds_one_scene_and_its_dependencies_and_does_not_stitch(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    plan = plan_json(spec, capsys, "--target", "jar")
    assert sorted(rows(plan)) == ["jar.image", "jar.video"]
    assert [s["id"] for s in plan["scenes"]] == ["jar"] and plan["targets"] == ["jar"]
    jar_credits = plan["to_spend_credits"]
    assert jar_credits == sum(a["credits"] for a in rows(plan).values()) > 0

    code, out, err = run(["build", str(spec), "--yes", "--target", "jar", *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    assert fake_runway.create_count() == 2 and s["generated"] == 2
    assert any("not stitching" in n and "harbour" in n and "bowl" in n for n in s["notices"]), s["notices"]
    assert not (project.parent / "build" / "review.mp4").exists()
    assert sorted(lock(spec)) == ["jar.image", "jar.video"]

    # One asset: its dependency comes with it, and is cached now.
    plan = plan_json(spec, capsys, "--target", "jar.video")
    assert sorted(rows(plan)) == ["jar.image", "jar.video"] and plan["to_spend_credits"] == 0

    # The rest: the jar is not made again (the next test cuts the film once every scene is there).
    fake_runway.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)
    assert code == 0, err
    assert fake_runway.create_count() == 3  # harbour.video, harbour.narration, bowl.video
    assert sorted(lock(spec)) == sorted(
        ["jar.image", "jar.video", "harbour.video", "harbour.narration", "bowl.video"]
    )


def test_target_of_an_asset_that_is_built_while_others_are_cached_stitches(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    assert run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)[0] == 0
    write_spec(project.parent, HARBOUR + ", gulls overhead")
    fake_runway.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", "--target", "harbour.video", *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    assert fake_runway.create_count() == 1 and created(fake_runway) == [HARBOUR + ", gulls overhead"]
    assert not any("not stitching" in n for n in s["notices"])
    assert (project.parent / "build" / "review.mp4").is_file()  # every scene is available: cut


def test_unknown_target_says_did_you_mean(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["plan"], ["build", "--yes"]):
        code, out, err = run([*command, str(project), "--target", "jr"], capsys)
        assert code == 1 and "--target 'jr': no such scene or asset" in err and "did you mean 'jar'" in err
    code, _, err = run(["plan", str(project), "--target", "jar.vidoe"], capsys)
    assert code == 1 and "did you mean 'jar.video'" in err
    assert fake_runway.create_count() == 0


# --------------------------------------------------------------------------------------------- --replace


def test_replace_makes_a_new_take_with_a_new_seed_that_later_builds_keep(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    assert run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)[0] == 0
    first = lock(spec)["jar.video"]
    assert first["seed"] is None and "reroll" not in first
    before = spec.read_text()

    plan = plan_json(spec, capsys, "--replace", "jar.video")
    row = rows(plan)["jar.video"]
    assert row["action"] == "regenerate" and row["reason_code"] == "replaced"
    assert plan["to_spend_credits"] == row["credits"] > 0

    fake_runway.reset_counters()
    code, out, err = run(
        ["build", str(spec), "--yes", "--replace", "jar.video", *FAST, "--no-stitch"], capsys
    )
    assert code == 0, err
    assert fake_runway.create_count() == 1
    endpoint, body, _ = fake_runway.creates[0]
    assert endpoint == "image_to_video" and body["promptText"] == "Slow push toward the jar"
    seed = body["seed"]
    assert isinstance(seed, int) and 0 <= seed <= 2**32 - 1
    entry = lock(spec)["jar.video"]
    assert entry["seed"] == seed and entry["reroll"] == {"spec_seed": None}
    assert entry["key"] != first["key"]
    assert spec.read_text() == before  # the spec is not rewritten

    # The old take stays in the cache; plain builds use the new one, paid once.
    objects = spec.parent / ".vidspec" / "runway" / "objects"
    assert any(p.name.startswith(first["key"].split(":")[1]) for p in objects.rglob("*"))
    assert plan_json(spec, capsys)["to_spend_credits"] == 0
    fake_runway.reset_counters()
    code, out, err = run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)
    assert code == 0 and fake_runway.create_count() == 0 and summary(out)["cached"] == 5
    assert lock(spec)["jar.video"]["seed"] == seed and lock(spec)["jar.video"]["reroll"] == {
        "spec_seed": None
    }

    # Again: yet another seed.
    fake_runway.reset_counters()
    assert run(["build", str(spec), "--yes", "--replace", "jar.video", *FAST, "--no-stitch"], capsys)[0] == 0
    assert fake_runway.create_count() == 1 and fake_runway.creates[0][1]["seed"] not in (None, seed)

    # A seed written in the spec wins over the re-roll.
    spec.write_text(
        before.replace(
            'prompt: "Slow push toward the jar"', 'prompt: "Slow push toward the jar"\n    seed: 7'
        )
    )
    row = rows(plan_json(spec, capsys))["jar.video"]
    assert row["action"] == "regenerate" and "seed" in row["reason"]


def test_replace_an_image_remakes_its_video_and_prices_both(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    assert run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)[0] == 0
    plan = plan_json(spec, capsys, "--replace", "jar.image", "--target", "jar")
    r = rows(plan)
    assert r["jar.image"]["reason_code"] == "replaced" and r["jar.video"]["reason_code"] == "dep_regenerated"
    fake_runway.reset_counters()
    code, out, err = run(
        ["build", str(spec), "--yes", "--replace", "jar.image", *FAST, "--no-stitch"], capsys
    )
    assert code == 0, err
    assert sorted(e for e, _, _ in fake_runway.creates) == ["image_to_video", "text_to_image"]
    image_body = next(b for e, b, _ in fake_runway.creates if e == "text_to_image")
    assert lock(spec)["jar.image"]["seed"] == image_body["seed"]
    assert summary(out)["credits_estimated"] == plan["to_spend_credits"]


def test_replace_refuses_what_has_no_seed_or_no_name(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["plan", str(project), "--replace", "harbour.narration"], capsys)
    assert code == 1 and "takes no seed" in err
    code, _, err = run(["plan", str(project), "--replace", "jar"], capsys)
    assert code == 1 and "is a scene; name one of its assets: jar.image, jar.video" in err
    code, _, err = run(["build", "--yes", str(project), "--replace", "jar.vide"], capsys)
    assert code == 1 and "did you mean 'jar.video'" in err
    assert fake_runway.create_count() == 0


# ------------------------------------------------------------------------------------------- saved plans


def save_plan(spec: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Path, dict[str, Any]]:
    out = spec.parent / "plan.json"
    code, _, err = run(["plan", str(spec), "--out", str(out), *args], capsys)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out.read_text())
    return out, doc


def test_saved_plan_records_keys_requests_credits_and_digests(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, doc = save_plan(project, capsys)
    assert doc["format"] == "vidspec-plan" and doc["spec"] == "review.yaml"
    assert doc["spec_sha256"].startswith("sha256:") and list(doc["inputs"]) == ["assets/bowl.jpg"]
    assets = {a["name"]: a for a in doc["assets"]}
    assert len(assets) == 5 and all(
        a["action"] == "create" and a["key"].startswith("sha256:") for a in assets.values()
    )
    assert doc["to_spend_credits"] == sum(a["credits"] for a in assets.values()) == doc["total_credits"]
    bowl = assets["bowl.video"]["request"]
    assert bowl["model"] == "gen4_turbo" and bowl["promptText"] == "Steam rises from the bowl"
    assert bowl["promptImage"] == {
        "file": "assets/bowl.jpg",
        "sha256": doc["inputs"]["assets/bowl.jpg"],
        "type": "image",
    }
    assert assets["jar.video"]["request"]["promptImage"] == {
        "asset": "jar.image",
        "key": assets["jar.image"]["key"],
    }
    assert "test-key-not-real" not in out.read_text()
    code, _, err = run(["plan", str(out)], capsys)
    assert code == 1 and "is a saved plan: apply it with `vidspec build" in err
    assert fake_runway.create_count() == 0


def test_saved_plan_is_refused_when_anything_changed_and_applied_exactly_otherwise(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    bowl = spec.parent / "assets" / "bowl.jpg"
    out, doc = save_plan(spec, capsys)

    def refused(why: str) -> None:
        code, _, err = run(["build", str(out), "--poll-scale", "0.02", "--no-stitch"], capsys)
        assert code == 1 and "the saved plan is stale" in err and why in err, err
        assert fake_runway.create_count() == 0

    write_spec(spec.parent, HARBOUR + " in the rain")  # the spec
    refused("the spec review.yaml changed")
    write_spec(spec.parent)
    original = bowl.read_bytes()
    jpg(bowl, "blue")  # an input's bytes
    refused("input assets/bowl.jpg: its bytes changed")
    bowl.unlink()  # an input gone: the spec no longer validates
    refused("no longer validate")
    bowl.write_bytes(original)

    # The cache: another build makes one asset after the plan was saved.
    assert run(["build", str(spec), "--yes", "--target", "harbour.narration", *FAST], capsys)[0] == 0
    fake_runway.reset_counters()
    refused("cache: harbour.narration was to create in the plan, cached now")

    # Unchanged: exactly the planned creates, no more.
    out, doc = save_plan(spec, capsys)
    planned = sorted(a["name"] for a in doc["assets"] if a["action"] in ("create", "regenerate"))
    code, stdout, err = run(["build", str(out), "--poll-scale", "0.02", "--json", "--no-stitch"], capsys)
    assert code == 0, err  # no --yes: a saved plan was reviewed
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    made = sorted(e["asset"] for e in events if e.get("event") == "asset" and e["state"] == "done")
    assert fake_runway.create_count() == len(planned) == 4 and made == planned
    assert summary(stdout)["credits_estimated"] == doc["to_spend_credits"]
    assert (
        summary(stdout)["notices"][0]
        == f"applied the saved plan {out} ({doc['to_spend_credits']} credits planned)"
    )

    # Applied twice: the cache now holds what the plan priced, so the plan no longer holds.
    fake_runway.reset_counters()
    refused("was to create in the plan, cached now")


def test_saved_plan_with_targets_and_replace_applies_the_same_seed(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    assert run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)[0] == 0
    out, doc = save_plan(spec, capsys, "--target", "jar", "--replace", "jar.video")
    seed = doc["replace"]["jar.video"]
    assert doc["targets"] == ["jar"] and [a["name"] for a in doc["assets"]] == ["jar.image", "jar.video"]
    assert doc["assets"][1]["request"]["seed"] == seed
    fake_runway.reset_counters()
    code, _, err = run(["build", str(out), "--target", "bowl"], capsys)
    assert code == 1 and "a saved plan fixes what it builds" in err
    code, _, err = run(["build", str(out), "--poll-scale", "0.02", "--json", "--no-stitch"], capsys)
    assert code == 0, err
    assert fake_runway.create_count() == 1 and fake_runway.creates[0][1]["seed"] == seed
    assert lock(spec)["jar.video"]["seed"] == seed


def test_saved_plan_cap_never_spends_more_than_planned(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    out, doc = save_plan(spec, capsys, "--target", "harbour")
    # A lower --max-credits still holds; the plan's own sum is the ceiling otherwise.
    code, _, err = run(
        ["build", str(out), "--max-credits", "1", "--poll-scale", "0.02", "--no-stitch"], capsys
    )
    assert code == 1 and fake_runway.create_count() == 0
    assert doc["to_spend_credits"] > 1


def test_tampered_malformed_or_escaping_plans_are_refused(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, doc = save_plan(project, capsys)

    def refused(text: str, why: str) -> None:
        out.write_text(text)
        code, _, err = run(["build", str(out)], capsys)
        assert code == 1 and why in err, err
        assert fake_runway.create_count() == 0

    cheap = json.loads(json.dumps(doc))
    cheap["assets"][0]["credits"] = 0
    cheap["to_spend_credits"] -= doc["assets"][0]["credits"]
    refused(json.dumps(cheap), "changed after vidspec wrote it")
    refused(json.dumps(doc)[:200], "is not valid JSON")
    refused(json.dumps({**doc, "format_version": 9}), "format_version 9")
    refused(json.dumps({**doc, "assets": "x", "checksum": ""}), '"assets" is missing or has the wrong type')
    # A re-signed plan that claims less than the spec costs: stale, nothing spent.
    cheap["checksum"] = checksum(cheap)
    refused(json.dumps(cheap), "the saved plan is stale")
    # A plan that names a spec outside its folder, even correctly re-signed.
    outside = project.parent.parent / "elsewhere"
    outside.mkdir()
    shutil.copy(project, outside / "review.yaml")
    for name in ("../elsewhere/review.yaml", str(outside / "review.yaml")):
        escaping = {**doc, "spec": name}
        escaping["checksum"] = checksum(escaping)
        refused(json.dumps(escaping), "not below the plan's folder")
    (project.parent / "link.yaml").symlink_to(outside / "review.yaml")
    escaping = {**doc, "spec": "link.yaml"}
    escaping["checksum"] = checksum(escaping)
    refused(json.dumps(escaping), "outside the plan's folder")
    # --out must be where build can find the spec from.
    code, _, err = run(["plan", str(project), "--out", str(outside / "plan.json")], capsys)
    assert code == 1 and "write the plan in the spec's folder or a folder above it" in err
    for name, why in (("review.lock.json", "would be overwritten"), ("plan.txt", "name it *.json")):
        code, _, err = run(["plan", str(project), "--out", str(project.parent / name)], capsys)
        assert code == 1 and why in err and not (project.parent / name).exists()


# ---------------------------------------------------------------------------------------------- lock --check


def test_lock_check_passes_when_lock_spec_and_cache_agree_and_names_each_difference(
    fake_runway: FakeRunway, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project
    code, out, _ = run(["lock", "--check", str(spec)], capsys)
    assert code == 1 and "review.lock.json does not exist" in out
    assert run(["build", str(spec), "--yes", *FAST, "--no-stitch"], capsys)[0] == 0
    code, out, _ = run(["lock", "--check", str(spec)], capsys)
    assert code == 0 and "review.lock.json matches" in out and "(5 assets)" in out

    # A re-roll is part of the lockfile: still matching afterwards.
    assert run(["build", str(spec), "--yes", "--replace", "bowl.video", *FAST, "--no-stitch"], capsys)[0] == 0
    assert run(["lock", "--check", str(spec)], capsys)[0] == 0

    write_spec(spec.parent, HARBOUR + " at dusk")  # the spec
    jpg(spec.parent / "assets" / "bowl.jpg", "blue")  # an input's bytes
    lockfile = spec.with_name("review.lock.json")
    data = json.loads(lockfile.read_text())
    jar = data["assets"]["jar.image"]["key"]
    data["assets"]["gone.video"] = data["assets"]["jar.video"]
    lockfile.write_text(json.dumps(data))
    for p in (spec.parent / ".vidspec" / "runway" / "objects").rglob(jar.split(":")[1] + "*"):
        p.unlink()
    code, out, _ = run(["lock", "--check", "--json", str(spec)], capsys)
    assert code == 1
    found = {d["asset"]: d["problem"] for d in json.loads(out)["differences"]}
    assert found == {
        "harbour.video": "the spec changed since the lockfile was written: prompt changed",
        "bowl.video": "the spec changed since the lockfile was written: reference image bytes changed",
        "jar.image": "cached file missing (the record is there, its file is not)",
        "gone.video": "in the lockfile but no longer in the spec",
    }
    code, out, _ = run(["lock", str(spec)], capsys)  # without --check: the same report, exit 0
    assert code == 0 and "4 differences" in out


def test_target_on_the_free_preview(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["build", str(project), "--backend", "preview", "--target", "jar.video", "--json"], capsys
    )
    assert code == 0, err
    s = summary(out)
    assert s["generated"] == 2 and any("not stitching review.preview.mp4" in n for n in s["notices"])
    code, _, err = run(["build", str(project), "--backend", "preview", "--replace", "jar.video"], capsys)
    assert code == 1 and "the free preview has no takes" in err
