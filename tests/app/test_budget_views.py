"""Both limits in `plan` (text and --json) and in the build summary."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

from rich.console import Console

from vidspec.app.build import BuildOutcome
from vidspec.app.views.build_summary import build_summary, render_build_summary
from vidspec.app.views.plan import budget_json, render_plan
from vidspec.backends.executor import AssetResult, BuildReport
from vidspec.core.budget import BudgetStatus, Limits, Spend


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=160, highlight=False, color_system=None), out


STATUS = BudgetStatus(Limits(budget=150, max_credits=30), Spend(charged=70, possibly_billed=10), 24, held=5)


def test_budget_json_keys() -> None:
    assert budget_json(STATUS) == {
        "budget": 150,
        "max_credits": 30,
        "spent_credits": 80,
        "spent": {"charged": 70, "in_flight": 0, "possibly_billed": 10},
        "this_build_credits": 24,
        "held_credits": 5,
        "budget_left": 46,
        "within_budget": True,
        "within_max_credits": True,
    }
    after = budget_json(STATUS, Spend(charged=20, possibly_billed=24))
    assert after["committed_credits"] == 44 and after["budget_left"] == 26
    assert after["committed"] == {"charged": 20, "in_flight": 0, "possibly_billed": 24}


def test_plan_text_shows_both_limits() -> None:
    data: dict[str, Any] = {
        "spec": "film.yaml", "total_credits": 104, "to_spend_credits": 24, "usd": 1.04, "to_spend_usd": 0.24,
        "scenes": [], **budget_json(STATUS),
    }  # fmt: skip
    con, out = console()
    render_plan(data, con)
    text = out.getvalue()
    assert (
        "budget: 150 credits across builds: spent so far 80 credits (charged 70, possibly billed 10), "
        "this build 24, 46 left: within budget"
    ) in text
    assert "run cap: --max-credits 30; this build would spend 24: within the cap" in text
    assert "held: 5 credits" in text and "--resubmit-ambiguous" in text
    over = BudgetStatus(Limits(budget=90, max_credits=20), Spend(charged=80), 24)
    con, out = console()
    render_plan({**data, **budget_json(over)}, con)
    assert "-14 left: OVER BUDGET" in out.getvalue() and "OVER BUDGET (this run's cap)" in out.getvalue()


def test_build_summary_carries_the_limits_after_a_runway_build() -> None:
    report = BuildReport(
        [AssetResult("a.video", "a", "video", "gen4.5", "k", "done", 24, 30, credits_api_estimate=30)]
    )
    outcome = BuildOutcome(
        cast(Any, None), cast(Any, None), report, budget=STATUS, committed=Spend(charged=30)
    )
    summary = build_summary(outcome, "runway")
    assert summary["budget"]["committed_credits"] == 30 and summary["budget"]["budget_left"] == 40
    con, out = console()
    render_build_summary(summary, report, con)
    lines = out.getvalue().splitlines()
    assert any(
        line.split() == ["a.video", "done", "24", "30", "30"] for line in lines
    )  # with Runway's estimate
    assert any("this build 30, 40 left: within budget" in line for line in lines)
    assert any("run cap: --max-credits 30; this build committed 30: within the cap" in line for line in lines)
    bare = build_summary(BuildOutcome(cast(Any, None), cast(Any, None), report, output=Path("x")), "runway")
    assert "budget" not in bare
