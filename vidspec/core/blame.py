"""A wire path in an API answer (["promptImage", 0, "uri"]) -> the spec path the user wrote that value at.

The wire name goes back to vidspec's field through the inverse of the catalogue's WIRE_NAMES (one table); the
asset knows its scene, and the resolved scene knows where each of its fields was written (the scene or
`defaults`). A path may end below what was written (`sfx: "rain"` has no `prompt` key): Source.position falls
back to the nearest ancestor, so the line is still the one to look at.
"""

from __future__ import annotations

from collections.abc import Sequence

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import PathT
from vidspec.core.graph import Asset, Graph, override_scene
from vidspec.core.resolve import ResolvedScene
from vidspec.core.spec import GeneratedImage, Narration


def wire_field(asset: Asset, wire_path: Sequence[str | int]) -> tuple[str, int | None] | None:
    """vidspec's field that the wire path points into, and the item's index when that field is a list."""
    if not wire_path or not isinstance(wire_path[0], str):
        return None
    inverse = {wire: name for name, wire in cat.WIRE_NAMES[asset.row.endpoint].items()}
    name = "model" if wire_path[0] == "model" else inverse.get(wire_path[0])
    if name is None:
        return None
    if name == "image" and wire_path[-1] == "position":  # promptImage[i].position is image_position
        return "image_position", None
    index = wire_path[1] if len(wire_path) > 1 else None
    listed = isinstance(getattr(asset, name, None), tuple)
    return name, index if listed and isinstance(index, int) and not isinstance(index, bool) else None


def _scene(graph: Graph, asset: Asset) -> ResolvedScene:
    return next(rs for rs in graph.scenes if rs.index == asset.scene_index)


def field_path(graph: Graph, asset: Asset, name: str, index: int | None = None) -> PathT:
    """The spec path of an asset's request field `name` (item `index` of a list field)."""
    if asset.kind == "dub":
        project_dub = {"language": ("dub", "language"), "model": ("dub", "model")}
        if name in project_dub:
            return project_dub[name]
    rs = _scene(graph, asset)
    if asset.for_ratio is not None:  # a ratio override's clip: what the override set points into it
        rs = override_scene(rs, asset.for_ratio, rs.get("ratio_overrides")[asset.for_ratio])
    tail: PathT = () if index is None else (index,)
    if asset.kind == "image":  # a generated reference image: its own mapping under the scene's `image`
        img = rs.get("image")
        base = rs.where("image")
        if name == "ratio" and isinstance(img, GeneratedImage) and img.ratio is None:
            return rs.where("ratio")
        if name in ("prompt", "model", "ratio", "seed", "references"):
            return (*base, name, *tail)
        return rs.where(name, *tail)
    if asset.kind == "narration":
        base = rs.where("narration")
        narration = rs.get("narration")
        if name == "voice" and not (isinstance(narration, Narration) and narration.voice):
            return rs.where("voice")
        return (*base, {"prompt": "text"}.get(name, name))
    if asset.kind == "sfx":
        return (*rs.where("sfx"), name)
    if asset.kind == "dub":
        return rs.where("narration")
    return rs.where(name, *tail)


def spec_path(graph: Graph, asset: Asset, wire_path: Sequence[str | int]) -> PathT:
    """Where in the spec the value at `wire_path` of the asset's request was written; the scene when unknown."""
    found = wire_field(asset, wire_path)
    if found is None:
        return ("scenes", asset.scene_index)
    return field_path(graph, asset, *found)
