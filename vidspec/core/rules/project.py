"""Project-wide rules: unique scene ids, the output frame, music, dubbing and transitions."""

from __future__ import annotations

from collections.abc import Iterator

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, error
from vidspec.core.outputs import project_outputs
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.files import check_file
from vidspec.core.rules.hints import did_you_mean
from vidspec.core.rules.models import check_model_kind
from vidspec.core.rules.outputs import check_output_frames, check_ratio_overrides
from vidspec.core.spec import Project
from vidspec.core.timing import Timing, transition_share


def check_project(project: Project, ctx: Timing, scenes: list[ResolvedScene]) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    for i, scene in enumerate(project.scenes):
        if scene.id in seen:
            yield error(
                "VS106",
                f"scene id '{scene.id}' is already used by scenes[{seen[scene.id]}]",
                ("scenes", i, "id"),
                "scene ids must be unique",
            )
        else:
            seen[scene.id] = i
    outputs = project_outputs(project, scenes, "")  # ratios only: the name does not matter here
    yield from check_output_frames(project, outputs)
    for rs in scenes:
        if rs.get("clip") is None:
            yield from check_ratio_overrides(rs, ctx, outputs)
    if project.music is not None:
        yield from check_file(project.music.path, ("audio",), ("music", "path"), ctx, "music")
    if project.dub is not None:
        yield from check_model_kind(project.dub.model, "dub", ("dub", "model"))
        if project.dub.language not in cat.DUB_LANGUAGES:
            yield error(
                "VS503",
                f"dubbing language '{project.dub.language}' is not supported",
                ("dub", "language"),
                did_you_mean(
                    project.dub.language, cat.DUB_LANGUAGES, "supported: " + ", ".join(cat.DUB_LANGUAGES)
                ),
            )
    yield from check_transitions(scenes, ctx)


def check_transitions(scenes: list[ResolvedScene], ctx: Timing) -> Iterator[Diagnostic]:
    shares = (
        [0.0]
        + [transition_share(rs.get("transition"), float(rs.get("transition_duration"))) for rs in scenes[1:]]
        + [0.0]
    )  # shares[k]: into scene k
    for k, rs in enumerate(scenes):
        where = (
            rs.where("transition_duration") if rs.explicit("transition_duration") else rs.where("transition")
        )
        length = ctx.scene_seconds(rs)
        if k > 0 and rs.get("transition") != "cut":
            d = rs.get("transition_duration")
            shortest = min(ctx.scene_seconds(scenes[k - 1]), length)
            if shortest and d >= shortest:
                yield error("VS603", f"a {d:g} s {rs.get('transition')} is not shorter than the {shortest:g} s scene",
                            where, f"use a transition_duration below {shortest:g}")  # fmt: skip
                continue
        used = shares[k] + shares[k + 1]
        if length and shares[k] and shares[k + 1] and used > length + 1e-9:
            yield error("VS603", f"scene '{rs.id}' is {length:g} s, but its transitions in and out take {used:g} s",
                        rs.path, "shorten the transitions or lengthen the scene")  # fmt: skip
