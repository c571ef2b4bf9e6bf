"""`vidspec pick SPEC SCENE TAKE`: keep one take of a scene by writing its seed into the spec (and `takes: 1`),
so the choice is in version control and the next build finds that take in the cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidspec.app.spec_edit import edit_scene
from vidspec.app.workspace import Workspace
from vidspec.core.budget import BUDGET_CODES
from vidspec.core.continuity import frame_ref, source_index
from vidspec.core.keys import FileDigests, graph_keys
from vidspec.core.rules.hints import did_you_mean
from vidspec.core.takes import locked_takes, with_takes
from vidspec.core.validate import validate_text
from vidspec.errors import ConfigError, SpecError
from vidspec.store.atomic import atomic_write_text


@dataclass(frozen=True)
class Picked:
    scene: str
    take: int
    takes: int
    seed: int
    key: str
    cached: bool  # the take is in the cache (this backend's namespace): the next build spends nothing on it
    credits: int
    followers: tuple[
        str, ...
    ] = ()  # scenes that take a frame of this one's clip: made again from the new take


def pick(
    spec: Path,
    scene_id: str,
    take: int,
    *,
    cache_dir: Path | str | None = None,
    allow: Sequence[Path | str] = (),
    namespace: str = "runway",
) -> Picked:
    ws = Workspace.open(spec, cache_dir=cache_dir, namespace=namespace, allow=allow, over_budget_ok=True)
    ids = [rs.id for rs in ws.graph.scenes]
    if scene_id not in ids:
        hint = did_you_mean(scene_id, ids, "scenes: " + ", ".join(ids))
        raise ConfigError(f"no scene has the id '{scene_id}' in {spec}; {hint}")
    rs = next(s for s in ws.graph.scenes if s.id == scene_id)
    takes = ws.graph.takes(scene_id)
    if len(takes) < 2:
        raise ConfigError(
            f"scene '{scene_id}' has one take, so there is nothing to pick; set `takes: N` (2-8) on it, "
            "build, look at `vidspec storyboard`, then pick"
        )
    if not 1 <= take <= len(takes):
        raise ConfigError(
            f"scene '{scene_id}' has {len(takes)} takes: pick one of 1-{len(takes)}, not {take}"
        )
    chosen = takes[take - 1]
    assert chosen.seed is not None  # every take of a scene with takes has its seed
    key = ws.keys[chosen.name]
    text = spec.read_text("utf-8")
    is_json = spec.suffix.lower() == ".json"
    new = edit_scene(text, rs.index, {"seed": chosen.seed, "takes": 1}, is_json=is_json, before="takes")
    _check_same_request(spec, new, rs.index, key, ws)
    atomic_write_text(spec, new)
    followers = tuple(
        other.id
        for other in ws.graph.scenes
        if take != 1 and frame_ref(other) is not None and source_index(other, ws.graph.scenes) == rs.index
    )
    return Picked(scene_id, take, len(takes), chosen.seed, key, ws.store.has(key), chosen.credits, followers)


def _check_same_request(spec: Path, text: str, index: int, key: str, ws: Workspace) -> None:
    """The rewritten spec must be valid and ask for the very request the take was made with (same key), and
    change no other asset but those made from this scene's clip, or nothing is written: a pick never costs a
    create it does not say."""
    checked = validate_text(text, str(spec))
    graph = checked.graph
    errors = {d.code for d in checked.diagnostics if d.severity == "error"}
    if graph is None or errors - BUDGET_CODES:
        raise SpecError("the spec would not be valid after the pick; nothing was written",
                        list(checked.diagnostics.sorted()))  # fmt: skip
    scene = graph.scenes[index].id
    graph = with_takes(graph, locked_takes(graph, ws.lock))  # re-rolls (--replace) the lockfile keeps
    keys = graph_keys(graph, FileDigests(), ws.namespace)
    follows: set[str] = set()  # this scene's assets, and those made from them
    for asset in graph.assets:
        if asset.scene_id == scene or follows.intersection(asset.deps):
            follows.add(asset.name)
    others = {n: k for n, k in keys.items() if n not in follows}
    by_hand = "nothing was written; set `seed:` and `takes: 1` on the scene by hand"
    if keys.get(f"{scene}.video") != key:
        raise ConfigError(f"the rewritten scene '{scene}' would not ask for the take's request; {by_hand}")
    changed = sorted(n for n, k in others.items() if ws.keys.get(n) != k)
    if changed:  # e.g. another scene merges this one's mapping (a YAML anchor)
        raise ConfigError(
            f"writing into scene '{scene}' would also change {', '.join(changed)} (does another scene share its "
            f"mapping through a YAML anchor?); {by_hand}"
        )


def pick_lines(done: Picked, spec: Path) -> list[str]:
    """What `vidspec pick` says it did, and what the next build will do about it."""
    lines = [f"picked take {done.take} of {done.takes} for scene '{done.scene}': wrote seed: {done.seed} and takes: 1 "
             f"into {spec}"]  # fmt: skip
    if done.cached:
        lines.append("the next build reuses this take from the cache (0 credits for it)")
    else:
        lines.append(
            f"this take is not in the Runway cache: the next Runway build generates it ({done.credits} credits)"
        )
    lines += [
        f"scene '{f}' takes a frame of this scene's clip, so the next build makes it again from take {done.take} "
        "(`vidspec plan` prices it)"
        for f in done.followers
    ]
    return lines
