"""The credit budget, one rule for all: validate, plan, the build's preflight and the paid backend's tally."""

from __future__ import annotations


def budget_limit(override: float | None, spec_budget: float | None) -> float | None:
    """The limit in force: --max-credits wins over the spec's `budget`; None means no limit."""
    return override if override is not None else spec_budget


def within_budget(credits: float, limit: float | None) -> bool:
    """Spending ``credits`` in all stays within ``limit`` (reaching it exactly is allowed)."""
    return limit is None or credits <= limit


def over_budget(total: int, limit: float | None) -> str | None:
    """Why a full build costing ``total`` may not run, or None when it fits."""
    if limit is None or within_budget(total, limit):
        return None
    return f"a full build costs {total} credits, over the budget of {limit:g}"
