"""Takes and continuity in the asset graph, the keys and the plan (pure: no media, no network)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from vidspec.core.graph import AssetRef, Graph, Still, take_seeds
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.lock import Lock, LockEntry
from vidspec.core.plan import make_plan
from vidspec.core.requests import request_body
from vidspec.core.validate import validate_text

TAKES = """\
version: 1
scenes:
  - id: door
    prompt: "A red door opens onto a foggy street"
    takes: 3
  - id: seeded
    prompt: "A lantern swings in the wind"
    seed: 4294967294
    takes: 3
  - id: plain
    prompt: "A cat on a wall"
"""


def graph_of(text: str, tmp_path: Path, name: str = "film.yaml") -> Graph:
    checked = validate_text(text, str(tmp_path / name))
    assert checked.graph is not None, checked.diagnostics.sorted()
    return checked.graph


def test_takes_are_assets_with_distinct_seeds_and_take_one_is_the_film(tmp_path: Path) -> None:
    graph = graph_of(TAKES, tmp_path)
    door = graph.takes("door")
    assert [a.name for a in door] == ["door.video", "door.video.take2", "door.video.take3"]
    assert [a.take for a in door] == [1, 2, 3]
    seeds = [a.seed for a in door]
    assert len(set(seeds)) == 3 and all(s is not None for s in seeds)
    assert [a.name for a in graph.for_scene("door")] == ["door.video"]  # the film shows take 1
    # a scene's own seed is take 1's; the others follow it (wrapping at 2**32)
    assert [a.seed for a in graph.takes("seeded")] == [4294967294, 4294967295, 0]
    assert [a.seed for a in graph.takes("plain")] == [None]  # one take: the request is as before
    # priced as N creates
    assert graph.total_credits == 7 * graph.takes("plain")[0].credits


def test_take_seeds_are_the_same_on_every_checkout(tmp_path: Path) -> None:
    a = graph_of(TAKES, tmp_path / "one")
    b = graph_of(TAKES, tmp_path / "two")
    assert [x.seed for x in a.takes("door")] == [x.seed for x in b.takes("door")]
    changed = graph_of(TAKES.replace("A red door", "A blue door"), tmp_path)
    assert [x.seed for x in changed.takes("door")] != [x.seed for x in a.takes("door")]
    assert take_seeds(a.takes("plain")[0], 2, tmp_path) == take_seeds(b.takes("plain")[0], 2, tmp_path / "x")


def test_a_picked_seed_asks_for_the_takes_very_request(tmp_path: Path) -> None:
    graph = graph_of(TAKES, tmp_path)
    keys = graph_keys(graph, FileDigests())
    take2 = graph.takes("door")[1]
    picked = TAKES.replace(
        "    takes: 3\n  - id: seeded", f"    seed: {take2.seed}\n    takes: 1\n  - id: seeded"
    )
    after = graph_of(picked, tmp_path)
    assert graph_keys(after, FileDigests())["door.video"] == keys["door.video.take2"]


CONTINUITY = """\
version: 1
defaults: {duration: 5}
scenes:
  - id: second
    prompt: "The same street, the door now open"
    image: {from: first, frame: last}
  - id: first
    prompt: "A red door on a foggy street"
  - id: third
    prompt: "Inside the hall"
    image: {from: previous, frame: 1.5}
"""


def test_a_frame_of_another_scene_is_a_dependency_in_the_graph(tmp_path: Path) -> None:
    graph = graph_of(CONTINUITY, tmp_path)
    names = [a.name for a in graph.assets]
    assert names.index("first.video") < names.index("second.video")  # its source first, whatever the order
    assert [rs.id for rs in graph.scenes] == ["second", "first", "third"]  # the film keeps the spec's order
    second, third = graph.by_name()["second.video"], graph.by_name()["third.video"]
    assert second.row.endpoint == "image_to_video"
    assert second.image == Still(AssetRef("first.video", "video"), "last")
    assert third.image == Still(AssetRef("first.video", "video"), 1.5)  # `previous` is the scene before
    assert second.deps == ("first.video",)
    keys = graph_keys(graph, FileDigests())
    body = request_body(second, lambda ref: ref)
    assert body["promptImage"] == second.image
    assert key_parts(second, FileDigests(), keys)["promptImage"]  # the frame is part of the key


def test_changing_the_source_scene_regenerates_the_one_that_takes_its_frame(tmp_path: Path) -> None:
    graph = graph_of(CONTINUITY, tmp_path)
    digest = FileDigests()
    keys = graph_keys(graph, digest)
    parts = {a.name: key_parts(a, digest, keys) for a in graph.assets}
    lock = Lock()
    for a in graph.assets:
        lock.assets[a.name] = LockEntry(
            keys[a.name], a.kind, a.row.model, "task", "sha", 5.0, a.seed, a.credits, a.credits, parts[a.name]
        )
    cached = set(keys.values())
    plan = make_plan("film.yaml", graph, keys, parts, cached.__contains__, lock)
    assert {r.action for r in plan.rows} == {"cached"}

    changed = graph_of(CONTINUITY.replace("A red door", "A green door"), tmp_path)
    keys2 = graph_keys(changed, digest)
    parts2 = {a.name: key_parts(a, digest, keys2) for a in changed.assets}
    plan2 = make_plan("film.yaml", changed, keys2, parts2, cached.__contains__, lock)
    rows = {r.asset.name: r for r in plan2.rows}
    assert rows["first.video"].action == "regenerate"
    assert [c.field for c in rows["first.video"].reason.changes] == ["prompt"]
    for name in ("second.video", "third.video"):
        assert rows[name].action == "regenerate"
        assert rows[name].reason.code == "dep_regenerated"
        assert rows[name].reason.dependency is not None
        assert rows[name].reason.dependency.name == "first.video"


def test_plan_diff_says_a_frame_taker_depends_on_its_regenerated_source(tmp_path: Path) -> None:
    from vidspec.core.plan_diff import Side, diff_plans

    def side(text: str) -> Side:
        graph = graph_of(text, tmp_path)
        digest = FileDigests()
        keys = graph_keys(graph, digest)
        parts = {a.name: key_parts(a, digest, keys) for a in graph.assets}
        return Side(make_plan("film.yaml", graph, keys, parts, lambda key: False), parts, {})

    base = side(CONTINUITY)
    head = side(CONTINUITY.replace("A red door", "A green door").replace("frame: 1.5", "frame: first"))
    assets = {a.name: a for a in diff_plans(base, head).assets}
    second = assets["second.video"]
    assert second.status == "regenerated"
    assert [(c.field, c.change) for c in second.changes] == [("image", "regenerated")]
    assert second.changes[0].new == "the last frame of first.video (generated)"
    third = assets["third.video"]
    assert [(c.old, c.new) for c in third.changes] == [
        ("the frame at 1.5 s of first.video (generated)", "the first frame of first.video (generated)")
    ]


def test_takes_need_a_model_that_takes_a_seed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from vidspec.core import catalog as cat

    real = cat.row

    def without_seed(model: str, endpoint: str) -> cat.ModelRow | None:
        found = real(model, endpoint)
        if found is None or found.kind != "video":
            return found
        return dataclasses.replace(found, options=found.options - {"seed"})

    monkeypatch.setattr(cat, "row", without_seed)
    text = 'version: 1\nscenes:\n  - id: door\n    prompt: "A red door"\n    takes: 2\n'
    diags = validate_text(text, str(tmp_path / "film.yaml")).diagnostics.sorted()
    assert [(d.code, d.line, d.column) for d in diags if d.severity == "error"] == [("VS209", 5, 12)]
    assert "takes no seed, so its takes could not differ" in diags[0].message


def test_a_ratio_override_clip_is_not_a_take(tmp_path: Path) -> None:
    text = """\
version: 1
outputs:
  - {path: build/wide.mp4, ratio: "1280:720"}
  - {path: build/tall.mp4, ratio: "720:1280"}
scenes:
  - id: door
    prompt: "A red door"
    takes: 2
    ratio_overrides: {"720:1280": {prompt: "A tall red door"}}
"""
    graph = graph_of(text, tmp_path)
    assert [a.name for a in graph.takes("door")] == ["door.video", "door.video.take2"]
    assert graph.video_for("door", "720:1280").name == "door.video@720:1280"
    assert graph.video_for("door", "1280:720").name == "door.video"
