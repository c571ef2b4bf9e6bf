"""The one place that writes a Runway request body: an asset's fields under the catalogue's wire names.

Inputs are written by a `Resolve` the caller gives: the paid backend puts each input's URI there, the cache key
its content digest (or the dependency's key). So a key hashes the very body that is sent, inputs as content.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vidspec.core import catalog as cat
from vidspec.core.graph import Asset, AssetRef, FileRef, Input, Reference, Still

Resolve = Callable[[Input], Any]  # an input -> what stands for it in the body
Shape = Callable[[Asset, Any, Resolve], Any]


def _plain(asset: Asset, value: Any, resolve: Resolve) -> Any:
    if isinstance(value, tuple):
        raise TypeError(f"a list field of {asset.row.endpoint} needs a shape in SHAPES")
    return resolve(value) if isinstance(value, (FileRef, AssetRef, Still)) else value


def _prompt_image(asset: Asset, value: Input, resolve: Resolve) -> Any:
    uri = resolve(value)
    return uri if asset.image_position == "first" else [{"uri": uri, "position": asset.image_position}]


def _typed(asset: Asset, value: Input, resolve: Resolve) -> dict[str, Any]:
    return {"type": value.media, "uri": resolve(value)}


def _typed_list(asset: Asset, value: tuple[Reference, ...], resolve: Resolve) -> list[dict[str, Any]]:
    return [_typed(asset, r.ref, resolve) for r in value]


def _tagged_list(asset: Asset, value: tuple[Reference, ...], resolve: Resolve) -> list[dict[str, Any]]:
    return [{"uri": resolve(r.ref), **({"tag": r.tag} if r.tag is not None else {})} for r in value]


def _voice_preset(asset: Asset, value: str, resolve: Resolve) -> dict[str, Any]:
    return {"type": "runway-preset", "presetId": value}


def _moderation(asset: Asset, value: str, resolve: Resolve) -> dict[str, Any]:
    return {"publicFigureThreshold": value}


def _seconds_pair(asset: Asset, value: tuple[float, ...], resolve: Resolve) -> list[float]:
    return [float(v) for v in value]


# Wire fields the API wants as more than the bare value (or the bare input URI), by wire name.
SHAPES: dict[str, Shape] = {
    "promptImage": _prompt_image,
    "referenceImages": _tagged_list,
    "references": _typed_list,
    "character": _typed,
    "reference": _typed,
    "voice": _voice_preset,
    "contentModeration": _moderation,
    "trim": _seconds_pair,
}


def request_body(asset: Asset, resolve: Resolve) -> dict[str, Any]:
    """The body of the asset's create request, with each input written by `resolve`."""
    names = cat.WIRE_NAMES[asset.row.endpoint]
    fields = asset.request_fields()
    unknown = sorted(set(fields) - set(names))
    if unknown:  # a field set but never sent would be a silent bug: the table must name it
        raise ValueError(f"{asset.row.endpoint} has no wire name for {', '.join(unknown)} ({asset.name})")
    body: dict[str, Any] = {"model": asset.row.model}
    for name, wire in names.items():
        if name in fields:
            body[wire] = SHAPES.get(wire, _plain)(asset, fields[name], resolve)
    return body


def sent_fields(asset: Asset) -> dict[str, str]:
    """wire name -> vidspec name, for each field the asset's request carries ("model" included)."""
    names = cat.WIRE_NAMES[asset.row.endpoint]
    return {"model": "model", **{names[f]: f for f in asset.request_fields() if f in names}}


def field_of(wire: str) -> str:
    """vidspec's name for a wire field of any endpoint (the wire name itself when no endpoint has it)."""
    for table in cat.WIRE_NAMES.values():
        for name, w in table.items():
            if w == wire:
                return name
    return wire
