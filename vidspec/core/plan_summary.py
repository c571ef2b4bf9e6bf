"""How many assets a plan creates, regenerates, keeps and drops, and what it spends: the one-line summary's data."""

from __future__ import annotations

from dataclasses import dataclass

from vidspec.core.plan import Plan


@dataclass(frozen=True)
class PlanCounts:
    create: int = 0
    regenerate: int = 0
    cached: int = 0  # in a diff: unchanged against the base
    removed: int = 0
    refetch: int = 0  # a damaged or missing cached file fetched again: free
    reuse: int = 0  # the same request as another asset of this build: free
    to_spend: int = 0  # credits

    def as_dict(self) -> dict[str, int]:
        return {
            "create": self.create,
            "regenerate": self.regenerate,
            "cached": self.cached,
            "removed": self.removed,
            "refetch": self.refetch,
            "reuse": self.reuse,
        }


def plan_counts(plan: Plan) -> PlanCounts:
    """``removed``: assets the lockfile records that the spec no longer makes."""
    actions = [r.action for r in plan.rows]
    return PlanCounts(
        create=actions.count("create"),
        regenerate=actions.count("regenerate"),
        cached=actions.count("cached"),
        removed=len(plan.removed),
        refetch=actions.count("refetch"),
        reuse=actions.count("reuse"),
        to_spend=plan.to_spend_credits,
    )
