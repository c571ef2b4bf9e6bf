"""Re-rolls (--replace): a new take of an asset is the same request with a new seed, chosen by vidspec.

The spec is never rewritten: the lockfile records the seed drawn and the spec's own seed at that moment, and
every later build uses the drawn seed while the spec's seed is still that one, so the film keeps the new take
(cached, not paid again). Setting another seed in the spec ends the re-roll.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from vidspec.core.graph import Graph
from vidspec.core.lock import Lock
from vidspec.core.select import asset_named
from vidspec.errors import UnknownTarget

SEED_MAX = 2**32 - 1  # the API's bound for every model that takes a seed


@dataclass(frozen=True)
class Take:
    """The seed an asset is built with in place of the spec's (``spec_seed``: the spec's own, None: unset)."""

    seed: int
    spec_seed: int | None

    def lock_note(self) -> dict[str, int | None]:
        return {"spec_seed": self.spec_seed}


def replaceable(graph: Graph, names: Iterable[str], option: str = "--replace") -> list[str]:
    """The assets named by --replace, each checked to take a seed (a new seed is what makes a new take)."""
    found: list[str] = []
    by_name = graph.by_name()
    for raw in names:
        name = asset_named(graph, raw, option)
        asset = by_name[name]
        if "seed" not in asset.row.options:
            raise UnknownTarget(
                f"{option} {name!r}: {asset.row.model} takes no seed, so it cannot make a new take of the same "
                "request; change its text instead"
            )
        if name not in found:
            found.append(name)
    return found


def draw_takes(
    graph: Graph, names: Iterable[str], draw: Callable[[], int], now: Mapping[str, Take] | None = None
) -> dict[str, Take]:
    """A new seed for each asset of the spec's ``graph``, never the spec's nor the one it uses ``now`` (an
    earlier re-roll); ``draw`` gives a random seed, 0..SEED_MAX."""
    by_name = graph.by_name()
    takes: dict[str, Take] = {}
    for name in names:
        spec_seed = by_name[name].seed
        earlier = (now or {}).get(name)
        avoid = {spec_seed, earlier.seed if earlier else None}
        seed = draw()
        while seed in avoid:
            seed = draw()
        takes[name] = Take(seed, spec_seed)
    return takes


def locked_takes(graph: Graph, lock: Lock | None) -> dict[str, Take]:
    """The re-rolls the lockfile records that still hold: the spec's seed is the one it was when re-rolled."""
    takes: dict[str, Take] = {}
    if lock is None:
        return takes
    for asset in graph.assets:
        entry = lock.assets.get(asset.name)
        if entry is None or entry.reroll is None or entry.seed is None or "seed" not in asset.row.options:
            continue
        if entry.reroll.get("spec_seed") == asset.seed:
            takes[asset.name] = Take(entry.seed, asset.seed)
    return takes


def with_takes(graph: Graph, takes: Mapping[str, Take]) -> Graph:
    """The graph with each re-rolled asset's seed in its request."""
    if not takes:
        return graph
    assets = tuple(replace(a, seed=takes[a.name].seed) if a.name in takes else a for a in graph.assets)
    return replace(graph, assets=assets)
