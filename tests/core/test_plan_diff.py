"""diff_plans: two plans of one spec compared asset by asset, by request content, without git or I/O."""

from __future__ import annotations

from pathlib import Path

from tests.core.test_keys_plan import BASE as KEYS_BASE
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.plan import make_plan
from vidspec.core.plan_diff import PlanDiff, Side, diff_plans
from vidspec.core.validate import validate_file

BASE = (
    KEYS_BASE.lstrip()
    + """  - id: three
    model: gen4_turbo
    duration: 5
    image:
      prompt: "A map of the coast, ink on paper"
      model: gen4_image
      ratio: "1280:720"
    prompt: "Slow push across the map"
"""
)


def side(text: str, folder: Path, cached: frozenset[str] = frozenset()) -> Side:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "film.yaml"
    spec.write_text(text, "utf-8")
    v = validate_file(spec)
    assert v.ok and v.graph is not None, [d.message for d in v.diagnostics]
    digest = FileDigests()
    keys = graph_keys(v.graph, digest)
    parts = {a.name: key_parts(a, digest, keys) for a in v.graph.assets}
    plan = make_plan(str(spec), v.graph, keys, parts, cached.__contains__)
    return Side(plan, parts, {})


def diff(old: str | None, new: str, tmp_path: Path) -> PlanDiff:
    base = side(old, tmp_path / "base") if old is not None else None
    return diff_plans(base, side(new, tmp_path / "head"))


def by_name(d: PlanDiff) -> dict[str, str]:
    return {a.name: a.status for a in d.assets}


def test_the_same_spec_changes_nothing(tmp_path: Path) -> None:
    d = diff(BASE, BASE, tmp_path)
    assert set(by_name(d).values()) == {"unchanged"}
    assert (d.total_before, d.total_after, d.delta, d.spend) == (d.total_after, 151, 0, 0)
    assert d.counts().cached == 5


def test_a_model_and_duration_change_prices_both_sides(tmp_path: Path) -> None:
    new = BASE.replace("model: gen4_turbo\n    duration: 5", "model: gen4_turbo\n    duration: 10")
    d = diff(BASE, new, tmp_path)
    row = next(a for a in d.assets if a.name == "three.video")
    assert (row.status, row.credits_before, row.credits_after, row.spend) == ("regenerated", 25, 50, 50)
    assert [(c.field, c.change, c.old, c.new) for c in row.changes] == [("duration", "changed", 5, 10)]
    assert (d.total_before, d.total_after, d.delta) == (151, 176, 25)


def test_a_dependency_made_again_is_the_reason(tmp_path: Path) -> None:
    d = diff(BASE, BASE.replace("ink on paper", "watercolour"), tmp_path)
    assert {n: s for n, s in by_name(d).items() if s != "unchanged"} == {
        "three.image": "regenerated", "three.video": "regenerated",
    }  # fmt: skip
    video = next(a for a in d.assets if a.name == "three.video")
    assert [(c.field, c.change, c.new) for c in video.changes] == [
        ("image", "regenerated", "three.image (generated)")
    ]
    image = next(a for a in d.assets if a.name == "three.image")
    assert [(c.field, c.old, c.new) for c in image.changes] == [
        ("prompt", "A map of the coast, ink on paper", "A map of the coast, watercolour")
    ]
    assert d.spend == 5 + 25


def test_a_field_set_only_on_one_side_is_added_or_removed(tmp_path: Path) -> None:
    new = BASE.replace('slow aerial orbit"\n', 'slow aerial orbit"\n    seed: 7\n')
    d = diff(BASE, new, tmp_path)
    row = next(a for a in d.assets if a.name == "one.video")
    assert [(c.field, c.change, c.old, c.new) for c in row.changes] == [("seed", "added", None, 7)]
    back = diff(new, BASE, tmp_path / "back")
    row = next(a for a in back.assets if a.name == "one.video")
    assert [(c.field, c.change, c.old, c.new) for c in row.changes] == [("seed", "removed", 7, None)]


def test_moves_renames_and_a_missing_base(tmp_path: Path) -> None:
    one, two, three = BASE.split("  - id: ")[1:]
    head = BASE.split("  - id: ")[0]
    swapped = head + "  - id: " + two + "  - id: " + one + "  - id: " + three
    d = diff(BASE, swapped, tmp_path / "a")
    assert [(s.id, s.moved, s.status) for s in d.scenes] == [
        ("two", True, "unchanged"), ("one", True, "unchanged"), ("three", False, "unchanged"),
    ]  # fmt: skip
    added_above = (
        head + '  - id: zero\n    prompt: "A gull lands on the rail"\n  - id: ' + one + "  - id: " + two
    )
    d = diff(BASE, added_above + "  - id: " + three, tmp_path / "b")
    assert [s.id for s in d.scenes if s.moved] == []  # a scene added above moves nothing
    assert d.spend == 60 and d.counts().create == 1
    renamed = diff(BASE, BASE.replace("id: two", "id: deux"), tmp_path / "c")
    deux = next(a for a in renamed.assets if a.name == "deux.video")
    assert (deux.status, deux.same_as, deux.spend, renamed.spend) == ("added", "two.video", 0, 0)
    fresh = diff(None, BASE, tmp_path / "d")
    assert fresh.base_found is False and set(by_name(fresh).values()) == {"added"}
    assert (fresh.total_before, fresh.spend) == (0, fresh.total_after)


def test_the_same_request_twice_in_the_new_spec_is_paid_once(tmp_path: Path) -> None:
    twin = BASE + '  - id: four\n    prompt: "A fishing boat leaves the harbour, tracking shot"\n'
    d = diff(BASE + '  - id: five\n    prompt: "Nets drying in the sun"\n', twin, tmp_path)
    four = next(a for a in d.assets if a.name == "four.video")
    assert (four.status, four.same_as, four.spend) == ("added", "two.video", 0)
