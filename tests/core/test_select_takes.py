"""--target selections, --replace takes and the saved-plan document, in the pure core."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from vidspec.core.graph import Graph
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.lock import Lock, LockEntry
from vidspec.core.plan import make_plan
from vidspec.core.saved_plan import check_document, checksum, plan_document, safe_spec_path, stale_reasons
from vidspec.core.select import narrow, select
from vidspec.core.takes import Take, draw_takes, locked_takes, replaceable, with_takes
from vidspec.core.validate import validate_file
from vidspec.errors import PlanFileError, UnknownTarget

SPEC = """
version: 1
scenes:
  - id: one
    prompt: "A lighthouse at dawn, waves breaking, slow aerial orbit"
    narration: "Morning comes early here."
  - id: jar
    model: gen4_turbo
    image: {prompt: "Studio photo of a jar on slate", ratio: "1280:720"}
    prompt: "Slow push toward the jar"
    seed: 5
"""


@pytest.fixture
def graph(tmp_path: Path) -> Graph:
    spec = tmp_path / "film.yaml"
    spec.write_text(SPEC, "utf-8")
    v = validate_file(spec)
    assert v.graph is not None, [d.message for d in v.diagnostics]
    return v.graph


def test_select_scenes_assets_and_dependencies(graph: Graph) -> None:
    assert select(graph, ["one"]) == {"one.video", "one.narration"}
    assert select(graph, ["jar.video"]) == {"jar.image", "jar.video"}
    assert select(graph, ["jar.image", "one.narration"]) == {"jar.image", "one.narration"}
    narrowed = narrow(graph, select(graph, ["jar"]))
    assert [s.id for s in narrowed.scenes] == ["jar"] and len(narrowed.assets) == 2
    assert narrow(graph, None) is graph


def test_unknown_targets_suggest(graph: Graph) -> None:
    with pytest.raises(UnknownTarget, match="did you mean 'one'"):
        select(graph, ["onee"])
    with pytest.raises(UnknownTarget, match="the spec has: one, jar, one.video"):
        select(graph, ["zzzzzz"])
    with pytest.raises(UnknownTarget, match="takes no seed"):
        replaceable(graph, ["one.narration"])
    with pytest.raises(UnknownTarget, match="is a scene; name one of its assets: one.video, one.narration"):
        replaceable(graph, ["one"])
    assert replaceable(graph, ["jar.video", "jar.video", "one.video"]) == ["jar.video", "one.video"]


def test_takes_avoid_the_seed_in_use_and_the_lockfile_keeps_them(graph: Graph) -> None:
    draws = itertools.chain([5, 5, 9, 9, 11])
    now = {"jar.video": Take(9, 5)}
    takes = draw_takes(graph, ["jar.video"], lambda: next(draws), now)
    assert takes == {"jar.video": Take(11, 5)}  # never the spec's 5 nor the earlier take's 9
    rolled = with_takes(graph, takes)
    assert rolled.by_name()["jar.video"].seed == 11 and graph.by_name()["jar.video"].seed == 5
    entry = LockEntry("k", "video", "gen4_turbo", None, "x", 2.0, 11, 10, None, reroll={"spec_seed": 5})
    assert locked_takes(graph, Lock({"jar.video": entry})) == {"jar.video": Take(11, 5)}
    other = LockEntry("k", "video", "gen4_turbo", None, "x", 2.0, 11, 10, None, reroll={"spec_seed": 6})
    assert locked_takes(graph, Lock({"jar.video": other})) == {}  # the spec's seed changed: it wins
    assert '"reroll"' not in Lock({"a": LockEntry("k", "video", "m", None, "x", None, 1, 1, None)}).dumps()
    assert Lock.loads(Lock({"jar.video": entry}).dumps()).assets["jar.video"].reroll == {"spec_seed": 5}


def _doc(graph: Graph, tmp_path: Path, **kw: Any) -> dict[str, Any]:
    digest = FileDigests()
    keys = graph_keys(graph, digest)
    parts = {a.name: key_parts(a, digest, keys) for a in graph.assets}
    plan = make_plan("film.yaml", graph, keys, parts, lambda k: False, replaced=kw.pop("replaced", ()))
    return plan_document(
        plan,
        graph,
        keys,
        digest,
        spec_file=tmp_path / "film.yaml",
        spec_rel="film.yaml",
        backend="runway",
        **kw,
    )


def test_document_round_trip_and_what_it_refuses(graph: Graph, tmp_path: Path) -> None:
    doc = _doc(graph, tmp_path)
    assert check_document(doc) is doc and stale_reasons(doc, doc) == []
    assert doc["to_spend_credits"] == sum(a["credits"] for a in doc["assets"]) > 0
    for bad, why in (
        ({**doc, "format": "x"}, 'no "format"'),
        ({**doc, "replace": {"jar.video": -1}}, '"replace"'),
        ({**doc, "assets": [{"name": 1}]}, r"assets\[0\]\.name"),
        ({**doc, "to_spend_credits": 0}, "checksum"),
    ):
        with pytest.raises(PlanFileError, match=why):
            check_document(bad)
    lying = {**doc, "to_spend_credits": 0}
    lying["checksum"] = checksum(lying)
    with pytest.raises(PlanFileError, match="do not add up"):
        check_document(lying)
    for name in ("/etc/x.yaml", "../x.yaml", "a/../../x.yaml", "~/x.yaml", "a\\..\\x.yaml"):
        with pytest.raises(PlanFileError, match="not below the plan's folder"):
            safe_spec_path(name)
    assert str(safe_spec_path("films/x.yaml")) == "films/x.yaml"


def test_stale_reasons_name_each_difference(graph: Graph, tmp_path: Path) -> None:
    doc = _doc(graph, tmp_path)
    rolled = with_takes(graph, {"jar.image": Take(77, None)})
    now = _doc(rolled, tmp_path, seeds={"jar.image": 77}, replaced={"jar.image"})
    reasons = stale_reasons(doc, now)
    assert reasons == [
        "replace: {} in the plan, {'jar.image': 77} now",
        "jar.image: its request changed since the plan was made",
        "jar.video: its request changed since the plan was made",
    ]
    cached = {**doc, "assets": [{**a, "action": "cached", "credits": 0} for a in doc["assets"]]}
    assert stale_reasons(doc, cached)[0] == "cache: one.video was to create in the plan, cached now"
    assert len(stale_reasons(doc, cached, limit=2)) == 3
