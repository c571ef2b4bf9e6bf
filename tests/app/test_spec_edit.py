"""Values written into one scene of a YAML spec: only those bytes change, in every layout a scene may have."""

from __future__ import annotations

import pytest

from vidspec.app.spec_edit import edit_scene, guess_yaml_indent

SPEC = """\
scenes:
- id: street
  prompt: "x"   # c
  takes: 3          # three
- {id: b, takes: 2}
-   id: c
    prompt: y
- takes: 5
  id: d
- {id: e}
"""

CASES = {
    0: ("  takes: 3          # three\n", "  seed: 9\n  takes: 1          # three\n"),
    1: ("- {id: b, takes: 2}", "- {id: b, seed: 9, takes: 1}"),
    2: ("-   id: c\n", "-   id: c\n    seed: 9\n    takes: 1\n"),
    3: ("- takes: 5\n", "- seed: 9\n  takes: 1\n"),
    4: ("- {id: e}", "- {id: e, seed: 9, takes: 1}"),
}


@pytest.mark.parametrize("index", sorted(CASES))
def test_only_the_scenes_values_change(index: int) -> None:
    old, new = CASES[index]
    out = edit_scene(SPEC, index, {"seed": 9, "takes": 1}, is_json=False, before="takes")
    assert out == SPEC.replace(old, new, 1)


def test_a_scene_of_one_line_is_dumped_round_trip_with_the_files_indentation() -> None:
    text = "# top\nversion: 1   # v\nscenes:\n  - id: a   # only an id\n"
    out = edit_scene(text, 0, {"seed": 9, "takes": 1}, is_json=False, before="takes")
    assert out == "# top\nversion: 1   # v\nscenes:\n  - id: a   # only an id\n    seed: 9\n    takes: 1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  b: 1\nscenes:\n  - id: x\n", (2, 4, 2)),
        ("a:\n    b: 1\nscenes:\n- id: x\n", (4, 2, 0)),
        ("version: 1\n", (2, 4, 2)),
    ],
)
def test_the_files_indentation_is_guessed(text: str, expected: tuple[int, int, int]) -> None:
    assert guess_yaml_indent(text) == expected
