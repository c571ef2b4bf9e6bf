"""`plan --format markdown` and the pieces of the diff's words: excerpts, escaping, one format flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run
from vidspec.app.views.plan_diff import excerpts
from vidspec.app.views.plan_markdown import cell, code

SPEC = """version: 1
name: tiny
scenes:
  - id: one
    prompt: "A lighthouse at dusk | slow pan across the rocks"
    narration: "Hello there."
"""


def test_plan_markdown_is_summary_first_then_a_table_and_stable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC, "utf-8")
    code_, out, _ = run(["plan", str(spec), "--format", "markdown"], capsys)
    assert code_ == 0
    lines = out.splitlines()
    assert lines[0] == f"<!-- vidspec-plan: {cell(spec)} -->"
    assert lines[1] == f"### vidspec plan: `{spec}`"
    assert (
        lines[3] == "**Plan: 2 to create, 0 to regenerate, 0 cached, 0 removed; to spend 61 credits ($0.61)**"
    )
    assert "| scene | asset | model | credits | action | why |" in lines
    assert "| one | video | gen4.5 | 60 | create | new asset |" in lines
    _, again, _ = run(["plan", str(spec), "--format", "markdown"], capsys)
    assert again == out
    _, as_json, _ = run(["plan", str(spec), "--format", "json"], capsys)
    _, flag, _ = run(["plan", str(spec), "--json"], capsys)
    assert json.loads(as_json) == json.loads(flag)
    bad, out, err = run(["plan", str(spec), "--json", "--format", "markdown"], capsys)
    assert bad == 1 and "--json and --format markdown disagree" in err


def test_excerpts_cut_around_the_change() -> None:
    old = "word " * 30 + "tungsten" + " more" * 30
    new = "word " * 30 + "neon" + " more" * 30
    a, b = excerpts(old, new)
    assert a.startswith("…") and a.endswith("…") and "tungsten" in a and len(a) < 80
    assert b.startswith("…") and "neon" in b and a.replace("tungsten", "neon") == b
    assert excerpts("short", "shorter") == ("short", "shorter")
    start, _ = excerpts("x" * 300, "y" * 300)
    assert not start.startswith("…") and " … " in start  # a long change: its start and its end


def test_markdown_cells_escape_tables_html_and_code() -> None:
    assert cell("a | b\nc <script>") == "a \\| b c &lt;script&gt;"
    assert cell("gen4_turbo *bold*") == "gen4\\_turbo \\*bold\\*"
    assert code("plain.yaml") == "`plain.yaml`"
    assert code("we`ird") == "``we`ird``"


def test_only_names_of_files_in_the_repository_are_taken_from_a_spec() -> None:
    from vidspec.app.gitref import named_files

    blobs = {"films/a.png": "100644", "shared/b.png": "100644", "films/link.png": "120000", "c.png": "100644"}
    data = {
        "scenes": [
            {"image": "a.png", "prompt": "a.png is a word here too"},
            {"references": [{"path": "../shared/b.png"}, {"path": "./a.png"}]},
            {"image": "link.png", "video": "https://example.com/a.png", "character": "/abs/c.png"},
            {"image": "../../outside.png", "music": "../c.png"},
        ]
    }
    assert named_files(data, "films", blobs) == ["c.png", "films/a.png", "shared/b.png"]


def test_plan_markdown_over_budget_says_so_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.replace("name: tiny\n", "name: tiny\nbudget: 50\n"), "utf-8")
    code_, out, err = run(["plan", str(spec), "--format", "markdown"], capsys)
    assert code_ == 1 and "over budget" in err
    assert "Budget: 50 credits; a build from nothing is 61: **over budget**." in out.splitlines()


def test_a_frame_takers_source_is_named_by_its_whole_name() -> None:
    from vidspec.app.views.plan_diff import asset_reason
    from vidspec.core.plan_diff import AssetDiff, FieldDiff

    frame = "the last frame of aa.video (generated)"
    change = FieldDiff("image", "regenerated", frame, frame)
    row = AssetDiff(
        "b.video", "b", "video", "regenerated", "gen4.5", "gen4.5", 60, 60, 60, "k1", "k2", (change,)
    )
    labels = {"a.video": "video 'a'", "aa.video": "video 'aa'"}
    assert asset_reason(row, labels) == "depends on regenerated video 'aa'"
