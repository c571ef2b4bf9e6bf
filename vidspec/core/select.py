"""--target: which assets a build makes (named scenes or assets, with what they depend on), and that plan.

A target is a scene id (every asset of the scene) or an asset name, `SCENE.kind` ("intro.video"). The
selection always holds the dependencies of what it names: a video made from a generated image needs the image.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from vidspec.core.graph import Graph
from vidspec.core.rules.hints import did_you_mean
from vidspec.errors import UnknownTarget


def _unknown(option: str, name: str, graph: Graph, *, assets_only: bool = False) -> UnknownTarget:
    scenes = list(dict.fromkeys(a.scene_id for a in graph.assets))
    names = [a.name for a in graph.assets]
    choices = names if assets_only else scenes + names
    hint = did_you_mean(name, choices)
    if hint is None:
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        hint = f"the spec has: {shown}"
    what = "asset" if assets_only else "scene or asset"
    return UnknownTarget(f"{option} {name!r}: no such {what} in the spec; {hint}")


def closure(graph: Graph, names: Iterable[str]) -> frozenset[str]:
    """The named assets and everything they depend on, by name."""
    by_name = graph.by_name()
    out: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            todo.extend(by_name[name].deps)
    return frozenset(out)


def select(graph: Graph, targets: Iterable[str], option: str = "--target") -> frozenset[str]:
    """The assets `targets` name (scene ids or asset names) and their dependencies."""
    by_scene: dict[str, list[str]] = {}
    for a in graph.assets:
        by_scene.setdefault(a.scene_id, []).append(a.name)
    names = graph.by_name()
    chosen: list[str] = []
    for target in targets:
        if target in by_scene:
            chosen.extend(by_scene[target])
        elif target in names:
            chosen.append(target)
        else:
            raise _unknown(option, target, graph)
    return closure(graph, chosen)


def asset_named(graph: Graph, name: str, option: str) -> str:
    """One asset by its name (`SCENE.kind`); a scene id alone says which assets it has."""
    if name in graph.by_name():
        return name
    own = [a.name for a in graph.assets if a.scene_id == name]
    if own:
        raise UnknownTarget(f"{option} {name!r} is a scene; name one of its assets: {', '.join(own)}")
    raise _unknown(option, name, graph, assets_only=True)


def narrow(graph: Graph, selection: frozenset[str] | None) -> Graph:
    """The graph of the selected assets only (None: all of it), for the plan: an asset that makes the same
    request as one outside the selection is priced, since this build makes it. Scenes without one drop out."""
    if selection is None:
        return graph
    assets = tuple(a for a in graph.assets if a.name in selection)
    scenes = {a.scene_id for a in assets}
    return replace(graph, scenes=tuple(s for s in graph.scenes if s.id in scenes), assets=assets)
