"""All the rules of one resolved scene, in order."""

from __future__ import annotations

from collections.abc import Iterator

from vidspec.core.diagnostics import Diagnostic
from vidspec.core.inputs import MediaKind
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.audio import check_narration, check_sfx
from vidspec.core.rules.files import check_file
from vidspec.core.rules.footage import check_footage
from vidspec.core.rules.images import check_image, check_references
from vidspec.core.rules.models import check_video_model
from vidspec.core.rules.text import check_prompt_advice, check_prompt_text
from vidspec.core.timing import Timing


def check_scene(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    yield from check_footage(rs, ctx)
    if rs.get("clip") is not None:  # the user's own clip: nothing is generated for its picture
        yield from check_narration(rs, ctx)
        yield from check_sfx(rs, ctx)
        return
    prompt = rs.get("prompt")
    if prompt:
        yield from check_prompt_text(prompt, rs.where("prompt"), "the prompt")
        yield from check_prompt_advice(prompt, rs.where("prompt"))
    yield from check_video_model(rs, ctx)
    yield from check_image(rs, ctx)
    file_kinds: tuple[tuple[str, tuple[MediaKind, ...]], ...] = (
        ("video", ("video",)),
        ("performance", ("video",)),
        ("character", ("image", "video")),
    )
    for name, kinds in file_kinds:
        raw = rs.get(name)
        if raw is not None:
            yield from check_file(raw, kinds, rs.where(name), ctx, name)
    if rs.get("references"):
        yield from check_references(rs.get("references"), rs.where("references"), prompt, ctx)
    yield from check_narration(rs, ctx)
    yield from check_sfx(rs, ctx)
