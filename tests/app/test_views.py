"""The views, rendered from small hand-made values: diagnostics, plan, build summary, model catalogue."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from rich.console import Console

from vidspec.app.build import BuildOutcome
from vidspec.app.views.build_summary import build_summary, render_build_summary
from vidspec.app.views.diagnostics import diagnostics_json, render_json, render_text
from vidspec.app.views.models import models_json, render_models
from vidspec.app.views.plan import render_plan
from vidspec.backends.executor import AssetResult, BuildReport
from vidspec.core.catalog import ModelRow, Price
from vidspec.core.diagnostics import Diagnostic


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, highlight=False, soft_wrap=True, color_system=None), out


# ------------------------------------------------------------------------------------------ diagnostics

ERR = Diagnostic(
    "error", "VS205", "duration 7 is not supported", "use 5 or 10", ("scenes", 0, "duration"), "a.yaml", 6, 15
)
WARN = Diagnostic("warning", "VS701", "the prompt uses negative phrasing")


def test_diagnostics_text_is_compiler_style() -> None:
    text = render_text([ERR, WARN])
    assert text.splitlines() == [
        "a.yaml:6:15: error[VS205]: duration 7 is not supported (scenes[0].duration)",
        "  hint: use 5 or 10",
        "<spec>: warning[VS701]: the prompt uses negative phrasing",
        "1 error, 1 warning",
    ]


def test_diagnostics_text_without_any_shows_the_ok_line_or_the_count() -> None:
    assert render_text([], ok_line="a.yaml: valid (2 scenes)") == "a.yaml: valid (2 scenes)"
    assert render_text([]) == "0 errors, 0 warnings"
    assert render_text([ERR, ERR], ok_line="never shown").endswith("2 errors, 0 warnings")


def test_diagnostics_json() -> None:
    data = json.loads(render_json([ERR]))
    assert data == diagnostics_json([ERR])
    assert data["diagnostics"] == [
        {
            "severity": "error",
            "code": "VS205",
            "message": "duration 7 is not supported",
            "hint": "use 5 or 10",
            "file": "a.yaml",
            "line": 6,
            "column": 15,
            "path": "scenes[0].duration",
        }
    ]


# ------------------------------------------------------------------------------------------ plan


def plan_data(budget: float | None, within: bool = True) -> dict[str, Any]:
    def a(label: str, action: str, reason: str, credits: int) -> dict[str, Any]:
        cached = action == "cached"
        return {
            "label": label,
            "model": "gen4_turbo",
            "credits": credits,
            "cached": cached,
            "action": action,
            "reason": reason,
        }

    return {
        "spec": "film.yaml",
        "total_credits": 35,
        "to_spend_credits": 25,
        "usd": 0.35,
        "to_spend_usd": 0.25,
        "budget": budget,
        "budget_left": None if budget is None else budget - 35,
        "within_budget": within,
        "scenes": [
            {
                "id": "intro",
                "credits": 35,
                "assets": [
                    a("video", "create", "new", 25),
                    a("reference image", "cached", "cached", 10),
                ],
            }
        ],
    }


def test_plan_table_and_totals() -> None:
    con, out = console()
    render_plan(plan_data(None), con)
    text = out.getvalue()
    assert "plan: film.yaml" in text
    assert "intro" in text and "create: new" in text and "scene total" in text
    assert "total: 35 credits ($0.35) for a build from nothing" in text
    assert "to spend: 25 credits ($0.25) on the next build" in text
    assert "budget:" not in text


def test_plan_budget_line() -> None:
    con, out = console()
    render_plan(plan_data(50), con)
    assert "budget: 50 credits, 15 left: within budget" in out.getvalue()
    con, out = console()
    render_plan(plan_data(30, within=False), con)
    assert "budget: 30 credits, -5 left: OVER BUDGET" in out.getvalue()


# ------------------------------------------------------------------------------------------ build summary


def result(name: str, state: str, estimated: int, charged: int | None, **kw: Any) -> AssetResult:
    return AssetResult(
        name, name.split(".")[0], "video", "gen4_turbo", f"k-{name}", state, estimated, charged, **kw
    )


REPORT = BuildReport(
    [
        result("a.video", "done", 25, 25, possibly_billed=5),
        result("b.video", "cached", 25, 20),
        result("c.video", "shared", 25, 0),
        result("d.video", "failed", 10, 10, error="refused [SAFETY.INPUT.TEXT]"),
        result("e.video", "skipped", 10, None, error="needs 'd.video', which failed"),
    ],
    elapsed=3.14159,
)


def outcome(**kw: Any) -> BuildOutcome:
    # The view reads the report and the paths; the workspace and plan are never touched.
    return BuildOutcome(cast(Any, None), cast(Any, None), REPORT, **kw)


def test_build_summary_json_contract() -> None:
    out = outcome(
        output=Path("build/film.mp4"),
        stitch=SimpleNamespace(skipped=False, encodes=lambda: {"method": "segments", "segments_reused": 2}),
        outputs=[Path("build/film.mp4"), Path("build/film-720x1280.mp4")],
        stitches=[SimpleNamespace(skipped=False), SimpleNamespace(skipped=True)],
        ledger=Path("build/film.ledger.json"),
        lockfile=Path("film.lock"),
        notices=["5 credits may have been billed"],
    )
    assert build_summary(out, "runway") == {
        "event": "summary",
        "backend": "runway",
        "assets": 5,
        "generated": 1,
        "cached": 1,
        "refetched": 0,
        "failed": [
            {"asset": "d.video", "scene": "d", "error": "refused [SAFETY.INPUT.TEXT]"},
            {"asset": "e.video", "scene": "e", "error": "needs 'd.video', which failed"},
        ],
        "credits_estimated": 25,
        "credits_charged": 35,
        "credits_possibly_billed": 5,
        "output": "build/film.mp4",
        "outputs": ["build/film.mp4", "build/film-720x1280.mp4"],
        "outputs_stitched": [True, False],
        "stitched": True,
        "stitch": {"method": "segments", "segments_reused": 2},
        "ledger": "build/film.ledger.json",
        "lockfile": "film.lock",
        "notices": ["5 credits may have been billed"],
        "elapsed": 3.14,
    }
    bare = build_summary(outcome(), "preview")
    assert (bare["output"], bare["stitched"], bare["ledger"], bare["lockfile"]) == (None, False, None, None)
    skipped = build_summary(outcome(stitch=SimpleNamespace(skipped=True, encodes=dict)), "preview")
    assert skipped["stitched"] is False


def test_build_summary_text_with_the_runway_ledger() -> None:
    summary = build_summary(outcome(output=Path("out.mp4"), stitch=None, notices=["n1"]), "runway")
    con, out = console()
    render_build_summary(summary, REPORT, con)
    lines = out.getvalue().splitlines()
    assert "cost ledger (credits)" in lines[0]
    assert any(line.split() == ["e.video", "skipped", "10", "-"] for line in lines)
    assert "1 generated, 1 cached, 2 failed; charged 35 credits" in lines
    assert "note: n1" in lines
    assert "failed: d.video: refused [SAFETY.INPUT.TEXT]" in lines
    assert lines[-1] == "up to date: out.mp4"


def test_build_summary_text_for_the_preview_has_no_ledger() -> None:
    summary = build_summary(
        outcome(output=Path("p.mp4"), stitch=SimpleNamespace(skipped=False, encodes=dict)), "preview"
    )
    con, out = console()
    render_build_summary(summary, REPORT, con)
    text = out.getvalue()
    assert "cost ledger" not in text and text.splitlines()[-1] == "wrote p.mp4"


# ------------------------------------------------------------------------------------------ models

ROWS = (
    ModelRow(
        "clipper",
        "image_to_video",
        "video",
        frozenset({"text", "image"}),
        frozenset({"image"}),
        Price("second", 7),
        ratios=("1280:720", "720:1280"),
        durations=(5, 10),
    ),
    ModelRow(
        "speaker",
        "text_to_speech",
        "speech",
        frozenset({"text"}),
        frozenset({"text"}),
        Price("chars", 1, block=50),
    ),
    ModelRow(
        "noise",
        "sound_effect",
        "sound",
        frozenset({"text"}),
        frozenset({"text"}),
        Price("seconds_block", 1, block=6),
        retired="2025-01-01",
    ),
)


def test_models_json() -> None:
    data = models_json(ROWS, voices=("Maya",), languages=("en", "fr"))
    assert data["voices"] == ["Maya"] and data["dub_languages"] == ["en", "fr"]
    assert data["models"][0] == {
        "model": "clipper",
        "endpoint": "image_to_video",
        "kind": "video",
        "inputs": ["image", "text"],
        "requires": ["image"],
        "ratios": ["1280:720", "720:1280"],
        "durations": [5, 10],
        "price": "7/s",
        "retired": None,
    }
    assert data["models"][1]["durations"] is None and data["models"][2]["retired"] == "2025-01-01"


def test_models_table() -> None:
    con, out = console()
    render_models(con, rows=ROWS, voices=("Maya",), languages=("en",))
    text = out.getvalue()
    assert "vidspec model catalogue" in text
    assert "image, text?" in text and "5, 10 s" in text and "7/s" in text
    assert "1 per 50 characters" in text and "noise (retired)" in text and "0.5-30 s" in text
    assert text.splitlines()[-1] == "? = optional input" and "voices:" not in text
    con, out = console()
    render_models(con, show_voices=True, rows=ROWS, voices=("Maya", "Leslie"), languages=("en", "fr"))
    assert out.getvalue().splitlines()[-2:] == ["voices: Maya, Leslie", "dubbing languages: en, fr"]
