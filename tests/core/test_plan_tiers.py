"""The plan takes the team cache's facts as data: which tier had a cached output, and who is making an asset
elsewhere right now (priced all the same: if that builder fails, this build makes it)."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_keys_plan import BASE, graph_for
from vidspec.app.views.plan import plan_json
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.plan import CacheStatus, make_plan


def test_team_hits_are_cached_with_their_tier_and_live_leases_say_elsewhere(tmp_path: Path) -> None:
    g = graph_for(BASE, tmp_path)
    digest = FileDigests()
    keys = graph_keys(g, digest)
    parts = {a.name: key_parts(a, digest, keys) for a in g.assets}
    facts = {
        keys["one.video"]: CacheStatus("cached", tier="team"),
        keys["one.narration"]: CacheStatus("cached"),
        keys["two.video"]: CacheStatus("absent", elsewhere="ci-runner:42:ab12 (lease expires in 250 s)"),
    }
    plan = make_plan("film.yaml", g, keys, parts, facts.__getitem__)
    rows = {r.asset.name: r for r in plan.rows}
    assert (rows["one.video"].action, rows["one.video"].tier) == ("cached", "team")
    assert (rows["one.narration"].action, rows["one.narration"].tier) == ("cached", "local")
    two = rows["two.video"]
    assert two.action == "create" and two.elsewhere and two.tier is None
    assert plan.to_spend_credits == two.asset.credits

    data = {a["name"]: a for s in plan_json(plan)["scenes"] for a in s["assets"]}
    assert data["one.video"]["reason"] == "cached (team)" and data["one.video"]["tier"] == "team"
    assert data["one.narration"]["reason"] == "cached" and data["one.narration"]["tier"] == "local"
    assert "being generated elsewhere by ci-runner:42:ab12" in data["two.video"]["reason"]
    assert data["two.video"]["elsewhere"].startswith("ci-runner") and data["two.video"]["tier"] is None
