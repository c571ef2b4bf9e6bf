"""`vidspec pick SPEC SCENE TAKE`: the take's seed and `takes: 1` written into the scene, every other byte kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run
from vidspec.core.validate import validate_file

YAML = """\
# yaml-language-server: $schema=../schemas/vidspec.schema.json
# A short film in three shots.
version: 1
name: door   # names the outputs
defaults:
    ratio: "1280:720"
    duration: 5
scenes:
- id: street
  prompt: "A red door on a foggy street, slow push-in"   # the hero shot
  takes: 3          # three variants to choose from
  narration: 'Somebody lives here.'
- id: hall
  image: {from: street, frame: last}
  prompt: >-
    Inside the hall, the fog follows
  takes: 2
"""

YAML_AFTER_PICK = """\
# yaml-language-server: $schema=../schemas/vidspec.schema.json
# A short film in three shots.
version: 1
name: door   # names the outputs
defaults:
    ratio: "1280:720"
    duration: 5
scenes:
- id: street
  prompt: "A red door on a foggy street, slow push-in"   # the hero shot
  seed: {seed}
  takes: 1          # three variants to choose from
  narration: 'Somebody lives here.'
- id: hall
  image: {{from: street, frame: last}}
  prompt: >-
    Inside the hall, the fog follows
  takes: 2
"""

JSON = """\
{
\t"version": 1,
\t"scenes": [
\t\t{"id": "a", "prompt": "A lantern swings in the wind", "seed": 7, "takes": 4},
\t\t{
\t\t\t"id": "b",
\t\t\t"prompt": "Rain on a tin roof",
\t\t\t"takes": 2,
\t\t\t"sfx": {"prompt": "rain", "duration": 3}
\t\t}
\t]
}
"""


def _seeds(spec: Path, scene: str) -> list[int | None]:
    graph = validate_file(spec).graph
    assert graph is not None
    return [a.seed for a in graph.takes(scene)]


def test_pick_rewrites_a_yaml_spec_keeping_comments_order_and_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(YAML, "utf-8")
    seeds = _seeds(spec, "street")
    code, out, err = run(["pick", str(spec), "street", "2"], capsys)
    assert code == 0, err
    assert spec.read_text("utf-8") == YAML_AFTER_PICK.format(seed=seeds[1])
    assert f"picked take 2 of 3 for scene 'street': wrote seed: {seeds[1]}" in out
    assert _seeds(spec, "street") == [seeds[1]]  # one take now, with that seed


def test_pick_rewrites_a_json_spec_keeping_its_indentation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "film.json"
    spec.write_text(JSON, "utf-8")
    assert _seeds(spec, "a") == [7, 8, 9, 10]
    code, _, err = run(["pick", str(spec), "a", "3"], capsys)
    assert code == 0, err
    b_seed = _seeds(spec, "b")[1]
    code, _, err = run(["pick", str(spec), "b", "2"], capsys)
    assert code == 0, err
    assert spec.read_text("utf-8") == JSON.replace('"seed": 7, "takes": 4', '"seed": 9, "takes": 1').replace(
        '\t\t\t"takes": 2,', f'\t\t\t"seed": {b_seed},\n\t\t\t"takes": 1,'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["streat", "1"], "no scene has the id 'streat'"),
        (["street", "4"], "scene 'street' has 3 takes: pick one of 1-3, not 4"),
        (["street", "0"], "0 is not in the range"),
        (["street", "two"], "'two' is not a valid integer"),
    ],
)
def test_a_bad_scene_or_take_is_a_clear_error_and_the_spec_is_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(YAML, "utf-8")
    code, out, err = run(["pick", str(spec), *args], capsys)
    assert code == 1
    assert message in out + err
    assert spec.read_text("utf-8") == YAML


def test_a_scene_with_one_take_has_nothing_to_pick(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(YAML.replace("  takes: 3          # three variants to choose from\n", ""), "utf-8")
    code, _, err = run(["pick", str(spec), "street", "1"], capsys)
    assert code == 1
    assert "scene 'street' has one take, so there is nothing to pick" in err


def test_a_spec_with_errors_is_not_picked_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "door.yaml"
    text = YAML.replace("takes: 2", "takes: 12")
    spec.write_text(text, "utf-8")
    code, out, err = run(["pick", str(spec), "street", "1"], capsys)
    assert code == 1
    assert "VS105" in out + err
    assert spec.read_text("utf-8") == text


def test_plan_says_the_film_uses_take_one_until_a_pick(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(YAML, "utf-8")
    code, out, _ = run(["plan", str(spec)], capsys)
    assert code == 0
    assert "video take 1/3 (in the film)" in out and "video take 3/3" in out
    assert (
        f"scene 'street': 3 takes, priced as 3 creates; the film uses take 1 until you choose one with `vidspec pick {spec} street TAKE`"
        in out
    )
    code, out, _ = run(["plan", str(spec), "--json"], capsys)
    scene = json.loads(out)["scenes"][0]
    assert (scene["takes"], scene["film_take"]) == (3, 1)
    assert [(a["take"], a["name"]) for a in scene["assets"] if a["kind"] == "video"] == [
        (1, "street.video"),
        (2, "street.video.take2"),
        (3, "street.video.take3"),
    ]


def test_picking_another_take_says_which_scenes_follow_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "door.yaml"
    spec.write_text(YAML, "utf-8")
    code, out, _ = run(["pick", str(spec), "street", "3"], capsys)
    assert code == 0
    assert (
        "scene 'hall' takes a frame of this scene's clip, so the next build makes it again from take 3" in out
    )


def test_a_pick_that_would_change_another_scene_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "alias.yaml"
    text = 'version: 1\nscenes:\n  - &door\n    id: a\n    prompt: "A red door"\n    takes: 2\n  - <<: *door\n    id: b\n'
    spec.write_text(text, "utf-8")
    code, _, err = run(["pick", str(spec), "a", "2"], capsys)
    assert code == 1
    assert "would also change b.video (" in err
    assert spec.read_text("utf-8") == text
