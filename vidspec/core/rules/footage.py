"""A scene of the user's own footage (`clip`, `trim`): a local video file, a trim inside it, and none of the
fields that only a generated clip uses."""

from __future__ import annotations

from collections.abc import Iterator

from vidspec.core.diagnostics import Diagnostic, error
from vidspec.core.inputs import input_ref, is_url
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.files import check_file
from vidspec.core.timing import Timing

# What only a generated clip uses: set in a footage scene itself, it is a mistake (from `defaults` it is not:
# defaults serve the generated scenes).
GENERATION_FIELDS = (
    "prompt", "model", "ratio", "duration", "seed", "image", "image_position", "video", "references",
    "character", "performance", "audio", "public_figure_threshold", "ratio_overrides", "takes",
)  # fmt: skip
_FRAME = 1 / 1000  # trims are compared to the file's length to the millisecond


def own(rs: ResolvedScene, name: str) -> bool:
    """Set in the scene itself (not inherited from `defaults`)."""
    return rs.origins.get(name) == ("scenes", rs.index, name)


def check_footage(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    clip = rs.get("clip")
    trim = rs.get("trim")
    if clip is None:
        if trim is not None:
            yield error("VS316", "`trim` cuts footage, but this scene has no `clip`", rs.where("trim"),
                        "add `clip: path/to/footage.mp4`, or remove `trim`")  # fmt: skip
        return
    for name in GENERATION_FIELDS:
        if own(rs, name):
            yield error("VS315", f"`{name}` has no effect on a footage scene: the clip is `{clip}`",
                        rs.where(name), f"remove `{name}`, or remove `clip` to generate this scene")  # fmt: skip
    cpath = rs.where("clip")
    if is_url(clip):
        yield error("VS318", f"footage must be a local file, not {clip[:60]}", cpath,
                    "download it into the project and give its path")  # fmt: skip
        return
    problems = list(check_file(clip, ("video",), cpath, ctx, "clip", upload=False))
    yield from problems
    if trim is None or any(d.severity == "error" for d in problems):
        return
    start, end = float(trim[0]), float(trim[1])
    tpath = rs.where("trim")
    if start >= end:
        yield error("VS316", f"trim [{start:g}, {end:g}] is empty: its start must come before its end",
                    tpath, "write [start, end] in seconds, e.g. [1.5, 4]")  # fmt: skip
        return
    length = ctx.video_length(input_ref(clip, ctx.base))
    if length is None:
        yield error("VS306", f"cannot read the length of {clip!r} (not an MP4/MOV?)", cpath,
                    "re-encode it as MP4")  # fmt: skip
        return
    if end > length + _FRAME:
        yield error("VS317", f"trim ends at {end:g} s, but {clip} is {length:.3f} s long", (*tpath, 1),
                    f"end the trim at {length:.3f} s or earlier")  # fmt: skip
