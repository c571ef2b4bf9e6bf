"""Continuity rules: `image: {from: SCENE|previous, frame: first|last|SECONDS}` names a scene before or after
this one (never itself, never in a cycle), and a time inside that scene's clip."""

from __future__ import annotations

from collections.abc import Iterator

from vidspec.core.continuity import cycle_from, frame_ref, source_index
from vidspec.core.diagnostics import Diagnostic, error
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.hints import did_you_mean
from vidspec.core.spec import PREVIOUS
from vidspec.core.timing import Timing


def check_frame_source(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    ref = frame_ref(rs)
    if ref is None:
        return
    where = rs.where("image", "from")
    if ref.source == rs.id:
        yield error(
            "VS802",
            f"scene '{rs.id}' takes its reference frame from its own clip",
            where,
            "name another scene, or `previous` for the scene before",
        )
        return
    src = source_index(rs, ctx.scenes)
    if src is None:
        if ref.source == PREVIOUS:
            yield error(
                "VS801",
                f"scene '{rs.id}' is the first scene: there is no previous scene to take a frame from",
                where,
                "name a scene by its id, or give this scene an image of its own",
            )
        else:
            ids = [s.id for s in ctx.scenes if s.id != rs.id]
            yield error(
                "VS801",
                f"no scene has the id '{ref.source}'",
                where,
                did_you_mean(ref.source, ids, "scenes: " + ", ".join(ids) if ids else "add that scene"),
            )
        return
    cycle = cycle_from(rs, ctx.scenes)
    if cycle is not None:
        if rs.index == min(cycle):  # one diagnostic per cycle, at its first scene in the file
            names = " -> ".join(f"'{ctx.scenes[i].id}'" for i in [*cycle, cycle[0]])
            yield error(
                "VS803",
                f"reference frames form a cycle: {names} (each takes a frame from the next one's clip)",
                where,
                "one of these scenes must have an image of its own (or none)",
            )
        return
    if isinstance(ref.frame, float) and not isinstance(ref.frame, bool):
        source = ctx.scenes[src]
        length = ctx.scene_seconds(source)
        if length and ref.frame >= length:
            yield error(
                "VS804",
                f"frame {ref.frame:g} s is past the end of scene '{source.id}', whose clip lasts {length:g} s",
                rs.where("image", "frame"),
                f"use a time below {length:g}, or `last` for its final frame",
            )
