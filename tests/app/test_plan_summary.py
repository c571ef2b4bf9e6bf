"""The one-line summary on every plan: counts, grammar, and assets the lockfile has that the spec dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run
from vidspec.app.views.plan_summary import dollars, signed_credits, summary_line
from vidspec.core.lock import Lock, LockEntry

SPEC = """version: 1
name: tiny
scenes:
  - id: one
    prompt: "A lighthouse at dusk, slow pan across the rocks"
    narration: "Hello there."
"""


def test_summary_line_wording_and_grammar() -> None:
    counts = {"create": 2, "regenerate": 1, "cached": 6, "removed": 0}
    line = summary_line(counts, 61)
    assert line == "Plan: 2 to create, 1 to regenerate, 6 cached, 0 removed; to spend 61 credits ($0.61)"
    one = summary_line({"create": 1, "regenerate": 0, "cached": 0, "removed": 1, "refetch": 1, "reuse": 2}, 1)
    assert one == (
        "Plan: 1 to create, 0 to regenerate, 0 cached, 1 to fetch again, 2 shared, 1 removed; "
        "to spend 1 credit ($0.01)"
    )
    assert summary_line(counts, 5, free=True).endswith("; to spend nothing (the preview is free)")
    assert summary_line(counts, 0, kept="unchanged").startswith(
        "Plan: 2 to create, 1 to regenerate, 6 unchanged"
    )
    assert (signed_credits(-1), signed_credits(0), signed_credits(61)) == (
        "-1 credit",
        "0 credits",
        "+61 credits",
    )
    assert (dollars(-61, sign=True), dollars(0, sign=True), dollars(1234)) == ("-$0.61", "$0.00", "$12.34")


def spec_with_lock(folder: Path, *locked: str) -> Path:
    """The spec, and a lockfile that records these assets."""
    spec = folder / "tiny.yaml"
    spec.write_text(SPEC, "utf-8")
    entry = LockEntry("sha256:" + "0" * 64, "video", "gen4.5", "t1", "0" * 64, 5.0, 1, 60, 60)
    (folder / "tiny.lock.json").write_text(Lock(dict.fromkeys(locked, entry)).dumps(), "utf-8")
    return spec


def test_every_plan_has_the_summary_in_text_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The lockfile remembers an asset the spec no longer makes: it counts as removed.
    spec = spec_with_lock(tmp_path, "gone.video")
    code, out, _ = run(["plan", "--json", str(spec)], capsys)
    data = json.loads(out)
    assert code == 0
    assert (
        data["summary"]
        == "Plan: 2 to create, 0 to regenerate, 0 cached, 1 removed; to spend 61 credits ($0.61)"
    )
    assert data["counts"] == {
        "create": 2,
        "regenerate": 0,
        "cached": 0,
        "removed": 1,
        "refetch": 0,
        "reuse": 0,
    }
    assert data["removed"] == ["gone.video"]
    code, out, _ = run(["plan", str(spec)], capsys)
    assert data["summary"] in out
    code, out, _ = run(["plan", "--json", "--backend", "preview", str(spec)], capsys)
    assert json.loads(out)["summary"].endswith("to spend nothing (the preview is free)")


def test_a_plan_narrowed_by_target_removes_nothing_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_with_lock(tmp_path, "one.video", "one.narration", "gone.video")
    code, out, _ = run(["plan", "--json", str(spec), "--target", "one.video"], capsys)
    data = json.loads(out)
    assert code == 0 and data["removed"] == ["gone.video"]  # not one.narration: only left out of this plan
    assert data["counts"]["removed"] == 1
    code, _, err = run(["plan", str(spec), "--diff", "HEAD", "--target", "one"], capsys)
    assert (
        code == 1 and "--diff compares the whole spec at two refs; it takes no --target or --replace" in err
    )
