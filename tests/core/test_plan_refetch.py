"""A damaged or missing cached file is fetched again from its task for free; only a task that is gone makes the
plan price a new create."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_keys_plan import graph_for
from vidspec.app.views.plan import plan_json, reason_text
from vidspec.core.keys import FileDigests, graph_keys
from vidspec.core.plan import CacheStatus, make_plan

TEXT = """
version: 1
scenes:
  - id: a
    prompt: "Rain on a window at night, rack focus"
  - id: b
    prompt: "Rain on a window at night, rack focus"
  - id: c
    prompt: "A lighthouse at dawn, slow aerial orbit"
"""


def test_damaged_missing_and_gone(tmp_path: Path) -> None:
    g = graph_for(TEXT, tmp_path)
    keys = graph_keys(g, FileDigests())
    states = {
        keys["a.video"]: CacheStatus("damaged"),
        keys["c.video"]: CacheStatus("missing"),
    }
    plan = make_plan("x", g, keys, {}, lambda k: states.get(k, CacheStatus("absent")))
    rows = {r.asset.name: r for r in plan.rows}
    assert [r.action for r in plan.rows] == ["refetch", "reuse", "refetch"]
    assert reason_text(rows["a.video"].reason) == "cached file damaged (sha256 mismatch)"
    assert reason_text(rows["c.video"].reason) == "cached file missing"
    assert plan.to_spend_credits == 0 and not any(r.spends or r.cached for r in plan.rows)
    assert plan.total_credits == 120  # a build from nothing still pays for both
    data = plan_json(plan)
    first = data["scenes"][0]["assets"][0]
    assert (first["action"], first["reason_code"], first["cached"]) == ("refetch", "damaged", False)

    states[keys["a.video"]] = CacheStatus("damaged", refetchable=False)
    plan = make_plan("x", g, keys, {}, lambda k: states.get(k, CacheStatus("absent")))
    row = plan.rows[0]
    assert row.action == "regenerate" and row.spends
    assert (
        reason_text(row.reason) == "cached file damaged (sha256 mismatch), and its task is gone from Runway"
    )
    assert plan.to_spend_credits == 60


def test_a_bool_lookup_still_works(tmp_path: Path) -> None:
    g = graph_for(TEXT, tmp_path)
    keys = graph_keys(g, FileDigests())
    plan = make_plan("x", g, keys, {}, lambda k: k == keys["c.video"])
    assert [r.action for r in plan.rows] == ["create", "reuse", "cached"]
