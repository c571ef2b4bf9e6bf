"""The credit budget, one rule for all: validate, plan, the build's preflight and the paid backend's tally.

Two limits, each with one meaning:

* the spec's ``budget``: the most the film may cost **in total, across runs**: what earlier builds of this spec
  charged, plus what they possibly billed (a create whose answer was lost), plus what is in flight, plus what this
  build would spend;
* ``--max-credits``: the most **this one invocation** may commit (charged, in flight and possibly billed by it).

Every create is an :class:`Attempt`, written down before it is sent (vidspec/store/spend.py keeps them per spec),
so a kill at any moment leaves it counted: a create with no known answer counts as possibly billed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# Diagnostics that are findings about cost, not a malformed spec (`plan` still shows its table with them).
BUDGET_CODES = frozenset({"VS601"})

# sending: written before the request leaves; submitted: the task id is known; ambiguous: the answer was lost
# (or the run died with it on the wire); charged: the task is over and its cost known; refused: the API answered
# with an error, so no task was made.
AttemptState = Literal["sending", "submitted", "ambiguous", "charged", "refused"]


def budget_limit(override: float | None, spec_budget: float | None) -> float | None:
    """The limit `validate` checks a full build against: --max-credits wins over the spec's `budget`."""
    return override if override is not None else spec_budget


def within_budget(credits: float, limit: float | None) -> bool:
    """Spending ``credits`` in all stays within ``limit`` (reaching it exactly is allowed)."""
    return limit is None or credits <= limit


def over_budget(total: int, limit: float | None) -> str | None:
    """Why a full build costing ``total`` may not run, or None when it fits (VS601 in `validate`)."""
    if limit is None or within_budget(total, limit):
        return None
    return f"a full build costs {total} credits, over the budget of {limit:g}"


@dataclass(frozen=True)
class Attempt:
    """One create request for one asset, from before it is sent until its task's cost is known."""

    id: str
    key: str
    name: str
    run: str  # the invocation that sent it
    credits_estimated: int  # vidspec's own price
    state: AttemptState = "sending"
    task_id: str | None = None
    credits_api_estimate: int | None = (
        None  # the create response's estimatedCost.credits: the most it may charge
    )
    credits_charged: int | None = None
    at: float = 0.0

    @property
    def at_most(self) -> int:
        """The most this create may cost while its final cost is unknown."""
        return max(self.credits_estimated, self.credits_api_estimate or 0)

    @property
    def counted(self) -> int:
        """What it counts against the limits now."""
        if self.state == "refused":
            return 0
        if self.state == "charged":
            return self.at_most if self.credits_charged is None else self.credits_charged
        return self.at_most


@dataclass(frozen=True)
class Spend:
    charged: int = 0
    in_flight: int = 0
    possibly_billed: int = 0

    @property
    def total(self) -> int:
        return self.charged + self.in_flight + self.possibly_billed

    def describe(self) -> str:
        return f"charged {self.charged}, in flight {self.in_flight}, possibly billed {self.possibly_billed}"


def tally(attempts: Iterable[Attempt], live_run: str | None = None) -> Spend:
    """Sum attempts by what is known of them. A create still being sent is in flight in ``live_run`` (the
    running invocation); from any other run it is possibly billed (that run died with it on the wire)."""
    charged = in_flight = possibly = 0
    for a in attempts:
        if a.state == "charged":
            charged += a.counted
        elif a.state == "submitted" or (a.state == "sending" and a.run == live_run):
            in_flight += a.counted
        elif a.state in ("sending", "ambiguous"):
            possibly += a.counted
    return Spend(charged, in_flight, possibly)


@dataclass(frozen=True)
class Limits:
    budget: float | None = None  # the spec's `budget`: across runs
    max_credits: float | None = None  # --max-credits: this invocation


def refusal(limits: Limits, spent: int, run: int, more: int) -> str | None:
    """Why committing ``more`` credits now would cross a limit, or None. ``spent``: everything counted for this
    spec so far (earlier runs and this one); ``run``: what this invocation has committed so far."""
    if not within_budget(run + more, limits.max_credits):
        assert limits.max_credits is not None
        return (
            f"{more} more credits would cross the budget of this run (--max-credits {limits.max_credits:g}; "
            f"{run} committed by it so far)"
        )
    if not within_budget(spent + more, limits.budget):
        assert limits.budget is not None
        return (
            f"{more} more credits would cross the budget of {limits.budget:g} (the spec's `budget`, across "
            f"runs; {spent} committed so far by this spec's builds)"
        )
    return None


@dataclass(frozen=True)
class BudgetStatus:
    """Both limits against what a build would do: shown by `plan`, checked before a build, in its summary."""

    limits: Limits
    spent: Spend  # earlier builds of this spec (the spend record)
    this_build: int  # what the next build would commit: new creates (re-attached tasks are already spent)
    held: int = 0  # possibly billed creates that are resubmitted only with --resubmit-ambiguous

    @property
    def budget_left(self) -> float | None:
        """What the spec's budget leaves after this build (negative: over)."""
        b = self.limits.budget
        return None if b is None else b - self.spent.total - self.this_build

    @property
    def within_budget(self) -> bool:
        """The next build stays within the spec's budget (one that adds nothing always does: re-attaching to
        tasks already paid for, or fetching outputs, costs nothing more)."""
        return self.this_build == 0 or within_budget(self.spent.total + self.this_build, self.limits.budget)

    @property
    def within_max_credits(self) -> bool:
        return within_budget(self.this_build, self.limits.max_credits)

    def problems(self) -> list[str]:
        """Why the build may not start, in words (empty: it may)."""
        out = []
        if not self.within_max_credits:
            assert self.limits.max_credits is not None
            out.append(
                f"this build would spend {self.this_build} credits, over --max-credits "
                f"{self.limits.max_credits:g}"
            )
        if not self.within_budget:
            assert self.limits.budget is not None
            out.append(
                f"this build would spend {self.this_build} credits; earlier builds of this spec have committed "
                f"{self.spent.total} ({self.spent.describe()}): {self.spent.total + self.this_build} in total, "
                f"over the spec's budget of {self.limits.budget:g}"
            )
        return out
