"""Item 10: a YAML indentation error points at the line to fix, in plain words, with the line and a caret."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidspec.app.views.diagnostics import render_text
from vidspec.core.validate import validate_file

# (name, spec text, line, column, words in the hint)
CASES = [
    ("key-indented-less", "version: 1\nscenes:\n  - id: a\n    prompt: x\n   model: y\n", 5, 4, "indented less"),
    ("key-indented-more", "version: 1\nscenes:\n  - id: a\n    prompt: x\n     model: y\n", 5, 6, "indented more"),
    ("more-after-quoted", 'version: 1\nscenes:\n  - id: a\n    prompt: "x"\n     model: y\n', 5, 6, "indented more"),
    ("more-after-block", "version: 1\nscenes:\n  - id: a\n    prompt: |\n      x\n     model: y\n", 6, 6,
     "indented"),
    ("top-level-less", "version: 1\noutput:\n  path: a.mp4\n fps: 24\nscenes: []\n", 4, 2, "indented less"),
    ("top-level-more", "version: 1\nname: x\n  budget: 4\nscenes: []\n", 3, 3, "indented more"),
    ("item-less", "version: 1\nscenes:\n  - id: a\n    prompt: x\n - id: b\n", 5, 2, "indented less"),
    ("item-more", "version: 1\nscenes:\n  - id: a\n    prompt: x\n   - id: b\n", 5, 4, "indented more"),
    ("item-far-more", "version: 1\nscenes:\n  - id: a\n    prompt: x\n      - id: b\n", 5, 7, "indented more"),
    ("after-comment", "version: 1\nscenes:\n  - id: a\n    prompt: x\n    # note\n\n   model: y\n", 7, 4,
     "indented less"),
    ("tab", "version: 1\nscenes:\n  - id: a\n\tprompt: x\n", 4, 1, "tab"),
    ("colon-in-value", "version: 1\nscenes:\n  - id: a\n    prompt: Time: 5pm\n", 4, 13, "quote"),
    ("unclosed-flow", "version: 1\nscenes: [a, b\nname: x\n", 2, 9, "["),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "line", "column", "words"), CASES, ids=[c[0] for c in CASES])
def test_the_line_to_fix_with_a_plain_hint(
    tmp_path: Path, name: str, text: str, line: int, column: int, words: str
) -> None:
    (tmp_path / "spec.yaml").write_text(text)
    [d] = validate_file(tmp_path / "spec.yaml").diagnostics
    assert (d.code, d.line, d.column) == ("VS002", line, column), d
    assert words in (d.hint or ""), d
    assert "<unicode string>" not in d.message + (d.hint or "")
    out = render_text([d]).splitlines()
    assert out[0].startswith(f"{tmp_path / 'spec.yaml'}:{line}:{column}: error[VS002]: invalid YAML")
    source_line = text.split("\n")[line - 1].replace("\t", "    ")
    assert out[1] == f"  {line} | {source_line}"
    caret_at = len(text.split("\n")[line - 1][: column - 1].replace("\t", "    "))
    assert out[2] == " " * (len(f"  {line} | ") - 2) + "| " + " " * caret_at + "^"
    assert out[3].startswith("  hint: ")


def test_the_issue_example_is_reported_on_the_misindented_line(tmp_path: Path) -> None:
    text = "version: 1\nscenes:\n  - id: opening\n    prompt: A bowl of noodles\n   model: gen4.5\n"
    (tmp_path / "spec.yaml").write_text(text)
    [d] = validate_file(tmp_path / "spec.yaml").diagnostics
    assert (d.line, d.column) == (5, 4)  # not 3:3, where the list item starts
    assert d.hint is not None and "this key is indented less than the keys above it" in d.hint


def test_an_unterminated_quote_still_points_at_the_quote(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        'version: 1\nscenes:\n  - id: a\n    prompt: "unterminated\n  - id: b\n'
    )
    [d] = validate_file(tmp_path / "spec.yaml").diagnostics
    assert (d.line, d.column) == (4, 13)
