"""Continuity between shots: which scene's clip gives a scene its reference frame (`image: {from: ...}`), the
cycles such references may form, and an order of the scenes in which every source comes first."""

from __future__ import annotations

from collections.abc import Sequence

from vidspec.core.resolve import ResolvedScene
from vidspec.core.spec import PREVIOUS, FrameRef


def frame_ref(rs: ResolvedScene) -> FrameRef | None:
    """The scene's `image: {from, ...}`; None for footage (`clip`), which takes no reference image."""
    img = rs.get("image")
    return img if isinstance(img, FrameRef) and rs.get("clip") is None else None


def source_index(rs: ResolvedScene, scenes: Sequence[ResolvedScene]) -> int | None:
    """The index of the scene whose clip gives this one its frame; None when it names no scene (or none)."""
    ref = frame_ref(rs)
    if ref is None:
        return None
    if ref.source == PREVIOUS:
        return rs.index - 1 if rs.index > 0 else None
    for other in scenes:
        if other.id == ref.source:
            return other.index
    return None


def cycle_from(start: ResolvedScene, scenes: Sequence[ResolvedScene]) -> list[int] | None:
    """The scene indices of a cycle of frame references that `start` is on (start first), or None.

    A scene that refers to itself is a cycle of one."""
    by_index = {rs.index: rs for rs in scenes}
    path = [start.index]
    cur = source_index(start, scenes)
    while cur is not None and cur in by_index:
        if cur == start.index:
            return path
        if cur in path:  # a cycle further on that `start` only leads into
            return None
        path.append(cur)
        cur = source_index(by_index[cur], scenes)
    return None


def scene_order(scenes: Sequence[ResolvedScene]) -> list[ResolvedScene]:
    """The scenes with every frame source before the scenes that take from it; otherwise in film order.
    Assumes no cycle (validation reports one)."""
    by_index = {rs.index: rs for rs in scenes}
    done: set[int] = set()
    order: list[ResolvedScene] = []
    for rs in scenes:
        chain: list[ResolvedScene] = []
        cur: ResolvedScene | None = rs
        while cur is not None and cur.index not in done and cur not in chain:
            chain.append(cur)
            src = source_index(cur, scenes)
            cur = by_index.get(src) if src is not None else None
        for item in reversed(chain):
            done.add(item.index)
            order.append(item)
    return order
