"""API facts end to end against the fake: gen4_turbo's 2-10 s, a 400's issues located in the spec, and a
FAILED task without a failure code."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run, summary
from vidspec.testing.fake_runway import FakeRunway

pytestmark = pytest.mark.slow  # end-to-end: the fake server and real media

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--poll-scale", "0.02", "--json", "--no-stitch", "--yes"]

SPEC = """\
version: 1
name: turbo
defaults:
  ratio: "1280:720"
scenes:
  - id: jar
    model: gen4_turbo
    image: bowl.jpg
    prompt: "Slow push toward the jar"
    duration: {duration}
  - id: label
    image:
      prompt: "Studio photo of a jar of sambal on slate, @brand label"
      references: [{{path: bowl.jpg, tag: brand}}, {{path: bowl.jpg, tag: other}}]
    prompt: "The label turns toward the camera"
    duration: 2
"""


def write_spec(tmp: Path, duration: int = 3) -> Path:
    shutil.copy(ROOT / "examples" / "assets" / "bowl.jpg", tmp / "bowl.jpg")
    spec = tmp / "turbo.yaml"
    spec.write_text(SPEC.format(duration=duration), "utf-8")
    return spec


def line_col(spec: Path, needle: str, *, value: bool = True) -> str:
    """`file:line:col` of the value after `needle` (or of `needle` itself) in the spec."""
    for n, line in enumerate(spec.read_text("utf-8").splitlines(), 1):
        if needle in line:
            col = line.index(needle) + (len(needle) if value else 0) + 1
            return f"{spec}:{n}:{col}"
    raise AssertionError(needle)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.1) as server:
        monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


def failed(out: str) -> dict[str, str]:
    return {f["asset"]: f["error"] for f in summary(out)["failed"]}


# ------------------------------------------------------------------------------------------ item 20


def test_gen4_turbo_builds_a_3_second_clip(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, 3)
    code, out, err = run(["validate", str(spec)], capsys)
    assert code == 0, out + err
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 0, err
    assert summary(out)["failed"] == []
    turbo = [body for endpoint, body, _ in fake.creates if body["model"] == "gen4_turbo"]
    assert len(turbo) == 1 and turbo[0]["duration"] == 3
    lock = json.loads((tmp_path / "turbo.lock.json").read_text("utf-8"))
    entry = lock["assets"]["jar.video"]
    assert entry["duration"] == pytest.approx(3.0, abs=0.1)  # measured from the downloaded clip
    assert entry["credits_estimated"] == entry["credits_charged"] == 15


@pytest.mark.parametrize("duration", [1, 11])
def test_gen4_turbo_outside_2_to_10_is_refused_before_spending(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], duration: int
) -> None:
    spec = write_spec(tmp_path, duration)
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1 and "error[VS205]" in out and "accepts 2-10 s" in out
    code, _, err = run(["build", str(spec), *FAST], capsys)
    assert code == 1 and "VS205" in err
    assert fake.create_count() == 0


# ------------------------------------------------------------------------------------------ item 22


@pytest.mark.parametrize(
    ("endpoint", "wire_path", "asset", "needle", "where"),
    [
        ("image_to_video", ["promptImage", 0, "uri"], "jar.video", "image: ", "scenes[0].image"),
        ("image_to_video", ["promptText"], "jar.video", "prompt: ", "scenes[0].prompt"),
        ("image_to_video", ["ratio"], "jar.video", "ratio: ", "defaults.ratio"),  # from `defaults`
        ("text_to_image", ["referenceImages", 1, "uri"], "label.image", "{path: bowl.jpg, tag: other}",
         "scenes[1].image.references[1]"),
    ],
)  # fmt: skip
def test_a_400_names_the_spec_field_and_its_line(
    fake: FakeRunway,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    endpoint: str,
    wire_path: list[Any],
    asset: str,
    needle: str,
    where: str,
) -> None:
    spec = write_spec(tmp_path, 3)
    issue = {"code": "custom", "path": wire_path, "message": "Refused by the fake"}
    fake.inject("bad_request", path=f"/v1/{endpoint}", issues=[issue])
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 1 and "Traceback" not in err
    message = failed(out)[asset]
    at = line_col(spec, needle, value=needle.endswith(" "))
    assert f"{at}: {where}: Refused by the fake" in message, message
    assert "Validation of body failed" in message


def test_a_400_without_issues_keeps_the_api_message(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, 3)
    fake.inject("bad_request", path="/v1/image_to_video", message="Image could not be decoded")
    code, out, _ = run(["build", str(spec), *FAST], capsys)
    assert code == 1
    message = failed(out)["jar.video"]
    assert message.endswith("the Runway API refused the request: Image could not be decoded"), message


# ------------------------------------------------------------------------------------------ item 23


@pytest.mark.parametrize("failure_code", ["absent", "null"])
def test_a_failed_task_without_a_failure_code_fails_that_asset_cleanly(
    fake: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str], failure_code: str
) -> None:
    spec = write_spec(tmp_path, 3)
    fake.inject("task_failed", model="gen4_turbo", failure_code=failure_code, failure="The render broke.")
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 1 and "Traceback" not in out + err and "internal error" not in err
    assert "The render broke." in failed(out)["jar.video"]
    assert list(failed(out)) == ["jar.video"]  # the other assets went on
    # An unknown failure is not retried: it may be a refusal that would be billed again.
    assert sum(1 for _, body, _ in fake.creates if body["model"] == "gen4_turbo") == 1
