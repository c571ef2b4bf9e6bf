"""Takes and continuity through the free preview backend: the film, the storyboard's takes side by side."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import run, summary
from vidspec.media.probe import measured_duration

pytestmark = pytest.mark.slow  # real media

SPEC = """\
version: 1
name: door
output: {ratio: "320:180", preset: ultrafast}
defaults: {duration: 2}
scenes:
  - id: inside
    prompt: "The hall behind the door"
    image: {from: outside, frame: 1.5}   # a later scene's clip: built first
  - id: outside
    prompt: "A red door on a foggy street"
    takes: 3
"""


def test_preview_builds_every_take_and_the_film_uses_take_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(SPEC, "utf-8")
    code, out, err = run(["build", str(spec), "--backend", "preview", "--json"], capsys)
    assert code == 0, err
    s = summary(out)
    assert s["generated"] == 4  # three takes and the scene that takes a frame of take 1
    assert abs(measured_duration(Path(str(s["output"]))) - 4.0) <= 1 / 24 + 1e-6

    code, out, err = run(["storyboard", str(spec)], capsys)
    assert code == 0, err
    page = (tmp_path / "build" / "door.storyboard.html").read_text("utf-8")
    facts = json.loads(html.unescape(re.search(r'id="plan">(.*?)</script>', page, re.S).group(1)))  # type: ignore[union-attr]
    takes = facts["takes"]["outside"]
    assert [t["take"] for t in takes] == [1, 2, 3]
    assert [t["chosen"] for t in takes] == [True, False, False]
    assert len({t["seed"] for t in takes}) == 3
    assert page.count("<tr>") == 1 + 4  # a row per take, and one for the other scene
    with Image.open(tmp_path / "build" / "door.storyboard.png") as sheet:
        # the takes side by side in one row; the other scene on its own row
        assert sheet.width >= 3 * 480 and sheet.height >= 2 * 270
