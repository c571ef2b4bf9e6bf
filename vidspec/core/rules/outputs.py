"""Several final cuts: `output` or `outputs` (not both), each frame a real size, and every ratio override
generating a clip that some output uses, with a model that can make it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from vidspec.core.diagnostics import Diagnostic, error
from vidspec.core.graph import override_scene
from vidspec.core.outputs import OutputSpec
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.models import check_video_model
from vidspec.core.rules.text import check_prompt_text
from vidspec.core.spec import Project
from vidspec.core.timing import Timing

_RATIO = re.compile(r"[1-9]\d{1,4}:[1-9]\d{1,4}")


def ratio_problem(ratio: str) -> str | None:
    """Why `ratio` cannot be an output frame, or None."""
    if not _RATIO.fullmatch(ratio):
        return "is not W:H in pixels"
    if any(int(x) % 2 for x in ratio.split(":")):
        return "has an odd side; H.264 yuv420p needs even sizes"
    return None


def check_output_frames(project: Project, outputs: Sequence[OutputSpec]) -> Iterator[Diagnostic]:
    if project.outputs is not None and "output" in project.model_fields_set:
        yield error("VS109", "`output` and `outputs` are both set", ("output",),
                    "move `output` into the `outputs` list (one entry per final cut)")  # fmt: skip
    for out in outputs:
        if out.output.ratio is None:
            continue
        problem = ratio_problem(out.output.ratio)
        if problem is not None:
            yield error("VS104", f"output ratio '{out.output.ratio}' {problem}", out.where("ratio"),
                        "for example 1280:720")  # fmt: skip


def check_ratio_overrides(
    rs: ResolvedScene, ctx: Timing, outputs: Sequence[OutputSpec]
) -> Iterator[Diagnostic]:
    overrides = rs.get("ratio_overrides") or {}
    frames = [o.ratio for o in outputs]
    for ratio, override in overrides.items():
        where = (*rs.where("ratio_overrides"), ratio)
        problem = ratio_problem(ratio)
        if problem is not None:
            yield error("VS104", f"ratio override '{ratio}' {problem}", where, "key it by an output's ratio")
            continue
        if ratio not in frames:
            yield error("VS111", f"no output has the frame {ratio}, so this clip would be paid for and unused",
                        where, f"outputs here: {', '.join(dict.fromkeys(frames))}")  # fmt: skip
            continue
        scene = override_scene(rs, ratio, override)
        if override.prompt is not None:
            yield from check_prompt_text(override.prompt, (*where, "prompt"), "the prompt")
        for diag in check_video_model(scene, ctx):
            # An error about the scene as a whole points at the override that made this variant.
            yield diag if diag.path != rs.path else replace(diag, path=where)
