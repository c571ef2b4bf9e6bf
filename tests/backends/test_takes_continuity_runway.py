"""Takes, pick and continuity end to end against the fake Runway API (real HTTP on loopback, real media)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import run, summary
from vidspec.app.workspace import Workspace
from vidspec.media.probe import ffmpeg_exe
from vidspec.testing import FakeRunway

pytestmark = pytest.mark.slow  # a fake server and real media

BUILD = ["--yes", "--json", "--no-stitch", "--poll-scale", "0.02"]

TAKES = """\
# Three takes of the door; keep the best.
version: 1
name: door
defaults: {duration: 2}
scenes:
  - id: door
    prompt: "A red door on a foggy street, slow push-in"   # the hero shot
    takes: 3   # choose with vidspec pick
"""

CONTINUITY = """\
version: 1
name: street
defaults: {duration: 2}
scenes:
  - id: outside
    prompt: "A red door on a foggy street, slow push-in"
  - id: inside
    prompt: "The hall behind the door, the fog follows in"
    image: {from: outside, frame: last}
"""


def _build(spec: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = run(["build", str(spec), *BUILD], capsys)
    assert code == 0, out + err
    return summary(out)


def test_takes_make_distinct_creates_and_a_pick_costs_nothing_after(
    tmp_path: Path, fake_runway: FakeRunway, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(TAKES, "utf-8")
    code, out, _ = run(["plan", str(spec), "--json"], capsys)
    plan = json.loads(out)
    assert plan["scenes"][0]["takes"] == 3 and plan["scenes"][0]["film_take"] == 1
    one = plan["scenes"][0]["assets"][0]["credits"]
    assert plan["to_spend_credits"] == 3 * one  # priced as three creates

    _build(spec, capsys)
    creates = fake_runway.creates
    assert [e for e, _, _ in creates] == ["text_to_video"] * 3
    seeds = [body["seed"] for _, body, _ in creates]
    assert len(set(seeds)) == 3
    assert {k: v for k, v in creates[0][1].items() if k != "seed"} == {
        k: v for k, v in creates[1][1].items() if k != "seed"
    }  # the same request but for the seed

    ws = Workspace.open(spec)
    take2 = ws.graph.takes("door")[1]
    assert take2.seed in seeds
    code, out, err = run(["pick", str(spec), "door", "2"], capsys)
    assert code == 0, err
    assert "reuses this take from the cache" in out
    assert spec.read_text("utf-8") == TAKES.replace(
        "    takes: 3   # choose with vidspec pick",
        f"    seed: {take2.seed}\n    takes: 1   # choose with vidspec pick",
    )

    fake_runway.reset_counters()
    code, out, _ = run(["plan", str(spec), "--json"], capsys)
    assert json.loads(out)["to_spend_credits"] == 0
    result = _build(spec, capsys)
    assert fake_runway.create_count() == 0
    assert (result["generated"], result["cached"]) == (0, 1)


def _frames(video: Path) -> np.ndarray:
    w, h = Image.open(io.BytesIO(_png_at(video))).size
    raw = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3).astype(np.int16)


def _png_at(video: Path) -> bytes:
    cmd = [
        ffmpeg_exe(),
        "-loglevel",
        "error",
        "-i",
        str(video),
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def test_the_second_scene_gets_the_first_clips_last_frame_and_follows_its_changes(
    tmp_path: Path, fake_runway: FakeRunway, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "street.yaml"
    spec.write_text(CONTINUITY, "utf-8")
    _build(spec, capsys)
    by_endpoint = {e: body for e, body, _ in fake_runway.creates}
    assert set(by_endpoint) == {"text_to_video", "image_to_video"}
    uri = by_endpoint["image_to_video"]["promptImage"]
    assert uri.startswith("data:image/png;base64,")
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"), np.int16)

    ws = Workspace.open(spec)
    hit = ws.store.get(ws.keys["outside.video"])
    assert hit is not None
    frames = _frames(hit[1])  # every frame of the first clip, decoded on its own
    assert sent.shape == frames[-1].shape
    assert float(np.abs(sent - frames[-1]).mean()) < 1.0  # the last frame, to a tolerance
    assert float(np.abs(sent - frames[0]).mean()) > 5.0  # and not the first one

    # The first scene's prompt changes: both scenes are regenerated, the second because of the first.
    spec.write_text(CONTINUITY.replace("A red door", "A green door"), "utf-8")
    code, out, _ = run(["plan", str(spec), "--json"], capsys)
    rows = {a["name"]: a for s in json.loads(out)["scenes"] for a in s["assets"]}
    assert rows["outside.video"]["action"] == "regenerate"
    assert rows["outside.video"]["reason"] == "prompt changed"
    assert rows["inside.video"]["action"] == "regenerate"
    assert rows["inside.video"]["reason_code"] == "dep_regenerated"
    assert "'outside'" in rows["inside.video"]["reason"]


FOOTAGE = """\
version: 1
name: shop
defaults: {duration: 2}
scenes:
  - id: ours
    clip: footage.mp4
    trim: [0.25, 1.25]
  - id: next
    prompt: "The shop counter, the same light"
    image: {from: ours, frame: last}
"""


def test_a_frame_of_your_own_footage_is_the_reference_image(
    tmp_path: Path, fake_runway: FakeRunway, media: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.copy(media["c0"], tmp_path / "footage.mp4")
    spec = tmp_path / "shop.yaml"
    spec.write_text(FOOTAGE, "utf-8")
    _build(spec, capsys)
    assert [e for e, _, _ in fake_runway.creates] == ["image_to_video"]  # the footage costs no create
    uri = fake_runway.creates[0][1]["promptImage"]
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"), np.int16)
    ws = Workspace.open(spec)
    hit = ws.store.get(ws.keys["ours.video"])
    assert hit is not None
    frames = _frames(hit[1])  # the trimmed footage as the film shows it
    assert float(np.abs(sent - frames[-1]).mean()) < 1.0
    assert float(np.abs(sent - frames[0]).mean()) > 5.0
