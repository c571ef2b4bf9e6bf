"""Reference images: a generated or given reference image, and tagged references used with @tags."""

from __future__ import annotations

import re
from collections.abc import Iterator

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, PathT, error, warning
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.continuity import check_frame_source
from vidspec.core.rules.files import check_file
from vidspec.core.rules.hints import did_you_mean
from vidspec.core.rules.models import check_model_kind
from vidspec.core.rules.text import check_prompt_text
from vidspec.core.spec import FrameRef, ReferenceImage
from vidspec.core.timing import Timing

TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,15}$")


TAG_USE_RE = re.compile(r"@([A-Za-z][A-Za-z0-9_]*)")


def check_references(
    refs: list[ReferenceImage],
    path: PathT,
    prompt: str | None,
    ctx: Timing,
    *,
    require: bool = False,
    model: str = "",
) -> Iterator[Diagnostic]:
    if require and not refs:
        yield error(
            "VS203", f"{model} needs at least one reference image", path, "add `references: [{path, tag}]`"
        )
    if len(refs) > cat.MAX_REFERENCE_IMAGES:
        yield error("VS402", f"{len(refs)} reference images; at most {cat.MAX_REFERENCE_IMAGES}", path)
    tags = set()
    for i, ref in enumerate(refs):
        yield from check_file(ref.path, ("image",), (*path, i, "path"), ctx, "reference image")
        if ref.tag is not None:
            tags.add(ref.tag)
            if not TAG_RE.match(ref.tag):
                yield error(
                    "VS401",
                    f"tag '{ref.tag}' is invalid",
                    (*path, i, "tag"),
                    "3-16 characters: a letter first, then letters, digits or _",
                )
    for used in TAG_USE_RE.findall(prompt or ""):
        if used not in tags:
            yield warning(
                "VS403",
                f"the prompt refers to @{used}, but no reference image has that tag",
                path,
                did_you_mean(used, sorted(tags)) if tags else "add `tag:` to a reference image",
            )


def check_image(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    img = rs.get("image")
    if img is None:
        return
    if isinstance(img, str):
        yield from check_file(img, ("image",), rs.where("image"), ctx, "image")
        return
    if isinstance(img, FrameRef):  # a frame of another scene's clip
        yield from check_frame_source(rs, ctx)
        return
    base = rs.where("image")
    yield from check_model_kind(img.model, "image", (*base, "model"))
    yield from check_prompt_text(img.prompt, (*base, "prompt"), "the image prompt")
    row = cat.row(img.model, "text_to_image")
    if row is None:
        return
    if img.ratio is None:
        if rs.get("ratio") not in row.ratios:
            yield error(
                "VS204",
                f"{img.model} cannot make an image at the scene's ratio {rs.get('ratio')}",
                base,
                f"set image.ratio to one of {', '.join(row.ratios)}",
            )
    elif img.ratio not in row.ratios:
        yield error(
            "VS204",
            f"{row.label} does not support ratio {img.ratio}",
            (*base, "ratio"),
            f"{row.label} accepts ratios {', '.join(row.ratios)}",
        )
    yield from check_references(
        list(img.references),
        (*base, "references"),
        img.prompt,
        ctx,
        require="references" in row.requires,
        model=img.model,
    )
