"""Cache keys are canonical, pinned, and blind to scene ids and order; plans say why they regenerate."""

from __future__ import annotations

import shutil
from pathlib import Path

from vidspec.app.views.plan import reason_text
from vidspec.core.hashing import canonical_json
from vidspec.core.keys import FileDigests, graph_keys, key_parts
from vidspec.core.lock import Lock, LockEntry
from vidspec.core.plan import FieldChange, Reason, make_plan
from vidspec.core.validate import validate_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def graph_for(text: str, tmp_path: Path, name: str = "film.yaml"):  # type: ignore[no-untyped-def]
    spec = tmp_path / name
    spec.write_text(text, "utf-8")
    v = validate_file(spec)
    assert v.ok and v.graph is not None, [d.message for d in v.diagnostics]
    return v.graph


BASE = """
version: 1
scenes:
  - id: one
    prompt: "A lighthouse at dawn, waves breaking, slow aerial orbit"
    narration: "Morning comes early here."
  - id: two
    prompt: "A fishing boat leaves the harbour, tracking shot"
"""


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical_json(
        {"a": [1, {"c": 3, "d": 2}], "b": 1}
    )


def test_key_is_pinned(tmp_path: Path) -> None:
    g = graph_for(BASE, tmp_path)
    keys = graph_keys(g, FileDigests())
    # Pinned: if this changes, every user's cache is disowned. Bump KEY_VERSION on purpose instead.
    assert keys["one.video"] == "sha256:087ed2aab96613f51b1f12a99bb432fa8742df7275f776a40f920a0db1c18062"


def test_renaming_and_reordering_scenes_keeps_keys(tmp_path: Path) -> None:
    g1 = graph_for(BASE, tmp_path, "a.yaml")
    renamed = BASE.replace("id: one", "id: first").replace("id: two", "id: second")
    lines = renamed.split("\n  - ")
    reordered = lines[0] + "\n  - " + lines[2] + "\n  - " + lines[1]
    g2 = graph_for(reordered, tmp_path, "b.yaml")
    k1 = set(graph_keys(g1, FileDigests()).values())
    k2 = set(graph_keys(g2, FileDigests()).values())
    assert k1 == k2


def test_file_bytes_not_names_enter_the_key(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "assets" / "bowl.jpg", tmp_path / "a.jpg")
    shutil.copy(EXAMPLES / "assets" / "bowl.jpg", tmp_path / "b.jpg")
    text = """
version: 1
scenes:
  - id: s
    image: {img}
    prompt: "Steam rises from the bowl, slow push-in"
"""
    k_a = graph_keys(graph_for(text.format(img="a.jpg"), tmp_path, "x.yaml"), FileDigests())["s.video"]
    k_b = graph_keys(graph_for(text.format(img="b.jpg"), tmp_path, "y.yaml"), FileDigests())["s.video"]
    assert k_a == k_b
    (tmp_path / "b.jpg").write_bytes((tmp_path / "b.jpg").read_bytes() + b"\0")
    k_c = graph_keys(graph_for(text.format(img="b.jpg"), tmp_path, "z.yaml"), FileDigests())["s.video"]
    assert k_c != k_a


def _plan_after_change(tmp_path: Path, before: str, after: str):  # type: ignore[no-untyped-def]
    digest = FileDigests()
    g1 = graph_for(before, tmp_path, "film.yaml")
    keys1 = graph_keys(g1, digest)
    parts1 = {a.name: key_parts(a, digest, keys1) for a in g1.assets}
    lock = Lock(
        {
            a.name: LockEntry(
                keys1[a.name], a.kind, a.row.model, "t", "x", None, None, a.credits, a.credits, parts1[a.name]
            )
            for a in g1.assets
        }
    )
    cached = set(keys1.values())
    g2 = graph_for(after, tmp_path, "film.yaml")
    digest2 = FileDigests()
    keys2 = graph_keys(g2, digest2)
    parts2 = {a.name: key_parts(a, digest2, keys2) for a in g2.assets}
    return make_plan("film.yaml", g2, keys2, parts2, cached.__contains__, lock)


def test_changed_narration_regenerates_only_that_narration(tmp_path: Path) -> None:
    plan = _plan_after_change(tmp_path, BASE, BASE.replace("Morning comes early here.", "Dawn comes early."))
    actions = {r.asset.name: (r.action, r.reason) for r in plan.rows}
    assert actions["one.narration"] == (
        "regenerate",
        Reason("changed", changes=(FieldChange("prompt", "changed"),)),
    )
    assert reason_text(actions["one.narration"][1]) == "prompt changed"
    assert {n for n, (a, _) in actions.items() if a != "cached"} == {"one.narration"}
    assert plan.to_spend_credits == 1
    assert plan.total_credits == 60 + 1 + 60


def test_regenerated_image_explains_the_dependent_video(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "assets" / "logo.png", tmp_path / "logo.png")
    text = """
version: 1
scenes:
  - id: jar
    model: gen4_turbo
    image:
      prompt: "{p}"
      ratio: "1280:720"
      references: [{{path: logo.png, tag: brand}}]
    prompt: "Slow push toward the jar"
"""
    plan = _plan_after_change(
        tmp_path, text.format(p="A jar of sambal on slate"), text.format(p="A jar on wood")
    )
    by = {r.asset.name: r for r in plan.rows}
    assert by["jar.image"].reason == Reason("changed", changes=(FieldChange("prompt", "changed"),))
    assert reason_text(by["jar.image"].reason) == "prompt changed"
    assert by["jar.video"].reason == Reason("dep_regenerated", dependency=by["jar.image"].asset)
    assert reason_text(by["jar.video"].reason) == "depends on regenerated reference image 'jar'"
    (tmp_path / "logo.png").write_bytes((tmp_path / "logo.png").read_bytes() + b"\0")
    plan2 = _plan_after_change(tmp_path, text.format(p="A jar on wood"), text.format(p="A jar on wood"))
    # the lockfile here was written after the byte change, so only a content change shows: nothing to do
    assert all(r.action == "cached" for r in plan2.rows)


def test_identical_requests_are_made_once(tmp_path: Path) -> None:
    text = """
version: 1
scenes:
  - id: a
    prompt: "Rain on a window at night, rack focus"
  - id: b
    prompt: "Rain on a window at night, rack focus"
"""
    g = graph_for(text, tmp_path)
    keys = graph_keys(g, FileDigests())
    plan = make_plan("x", g, keys, {}, lambda k: False)
    assert [r.action for r in plan.rows] == ["create", "reuse"]
    assert plan.to_spend_credits == 60
    assert plan.total_credits == 60
