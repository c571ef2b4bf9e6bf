"""Model rules: the right kind of model in each slot, and what the catalogue row accepts (inputs, options, ratio, duration)."""

from __future__ import annotations

from collections.abc import Iterator

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, PathT, error, warning
from vidspec.core.inputs import input_ref, scene_inputs
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.hints import did_you_mean
from vidspec.core.timing import Timing


def check_model_kind(model: str, kind: cat.Kind, path: PathT) -> Iterator[Diagnostic]:
    rows = cat.rows_for(model)
    if not rows:
        yield error(
            "VS201",
            f"unknown model '{model}'",
            path,
            did_you_mean(model, cat.models_of_kind(kind), "run `vidspec models` for the catalogue"),
        )
        return
    if rows[0].kind != kind:
        choices = ", ".join(cat.models_of_kind(kind))
        yield error(
            "VS207",
            f"'{model}' is a {rows[0].kind} model, used here for a {kind}",
            path,
            f"{kind} models: {choices}",
        )
    elif rows[0].retired:
        yield warning("VS208", rows[0].retired, path, "see `vidspec models`")
    elif rows[0].price.note:
        yield warning(
            "VS210",
            f"{model}: {rows[0].price.note} ({rows[0].price.describe()})",
            path,
            "the plan uses this price; the ledger records what was charged",
        )


_INPUT_WORDS = {
    "text": "a prompt", "image": "an image", "video": "an input video", "character": "a character",
    "performance": "a performance video", "references": "reference images",
}  # fmt: skip


def _describe(inputs: frozenset[str]) -> str:
    if not inputs:
        return "no inputs"
    return " and ".join(_INPUT_WORDS[i] for i in sorted(inputs))


def check_video_model(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    model = rs.get("model")
    mpath = rs.where("model")
    bad = list(check_model_kind(model, "video", mpath))
    yield from bad
    if any(d.severity == "error" for d in bad):
        return
    inputs = scene_inputs(rs)
    endpoint = cat.video_endpoint_for(inputs)
    row = cat.row(model, endpoint)
    if row is None:
        offers = ", ".join(r.endpoint.replace("_", "-") for r in cat.rows_for(model))
        others = [r.model for r in cat.CATALOG if r.endpoint == endpoint]
        near = [r for r in cat.rows_for(model) if inputs <= r.inputs]
        if near:  # e.g. text only on an image-only model: say what is missing
            needed = sorted(near[0].requires - inputs)
            yield error(
                "VS203",
                f"{near[0].label} needs {' and '.join(_INPUT_WORDS[n] for n in needed)}",
                rs.path,
                f"{model} does {offers} only; add `{needed[0]}:`, or use "
                f"{', '.join(others)} for {endpoint.replace('_', '-')}",
            )
            return
        yield error(
            "VS202",
            f"{model} does not do {endpoint.replace('_', '-')} (this scene has {_describe(inputs)})",
            mpath,
            f"{model} does {offers}; for {endpoint.replace('_', '-')} use {', '.join(others)}",
        )
        return
    for need in sorted(row.requires - inputs):
        yield error(
            "VS203",
            f"{row.label} needs {_INPUT_WORDS[need]}",
            rs.path,
            f"add `{ {'text': 'prompt'}.get(need, need) }:` to the scene",
        )
    for extra in sorted(inputs - row.inputs):
        yield error(
            "VS202",
            f"{row.label} does not take {_INPUT_WORDS[extra]}",
            rs.where(extra),
            f"remove `{extra}` or choose another model",
        )
    yield from check_options(rs, row)
    yield from check_ratio(rs, row)
    yield from check_duration(rs, row, ctx)


def check_options(rs: ResolvedScene, row: cat.ModelRow) -> Iterator[Diagnostic]:
    for opt in ("audio", "seed", "public_figure_threshold"):
        if rs.explicit(opt) and rs.get(opt) is not None and opt not in row.options:
            yield error("VS209", f"{row.model} does not take `{opt}`", rs.where(opt), f"remove `{opt}`")
    if (rs.get("takes") or 1) > 1 and "seed" not in row.options:  # takes differ by their seeds alone
        yield error("VS209", f"{row.model} takes no seed, so its takes could not differ", rs.where("takes"),
                    "remove `takes`, or choose a model that takes a seed")  # fmt: skip
    if "image" in scene_inputs(rs) and rs.get("image_position") not in row.image_positions:
        yield error(
            "VS209",
            f"{row.model} accepts image_position {', '.join(row.image_positions)} only",
            rs.where("image_position"),
            "use first, or a Veo model for last",
        )


def check_ratio(rs: ResolvedScene, row: cat.ModelRow) -> Iterator[Diagnostic]:
    ratio = rs.get("ratio")
    if not row.ratios:
        if rs.explicit("ratio"):
            yield error(
                "VS209",
                f"{row.model} keeps the input video's size and takes no ratio",
                rs.where("ratio"),
                "remove `ratio` from this scene",
            )
        return
    if ratio not in row.ratios:
        yield error(
            "VS204",
            f"{row.label} does not support ratio {ratio}",
            rs.where("ratio"),
            f"{row.label} accepts ratios {', '.join(row.ratios)}",
        )


def check_duration(rs: ResolvedScene, row: cat.ModelRow, ctx: Timing) -> Iterator[Diagnostic]:
    duration = rs.get("duration")
    if row.durations is not None:
        if duration is None:
            return  # the built-in default is always allowed
        if duration not in row.durations:
            yield error(
                "VS205",
                f"{row.label} does not support a duration of {duration} s",
                rs.where("duration"),
                f"{row.label} accepts {row.durations_text()}; vidspec never rounds",
            )
        return
    src = "performance" if row.endpoint == "character_performance" else "video"
    raw = rs.get(src)
    if raw is None:
        return
    ref = input_ref(raw, ctx.base)
    length = ctx.video_length(ref)
    if length is None:
        if duration is None and ref.url is not None:
            yield error(
                "VS306",
                f"the length of {src} {raw!r} is unknown, so the scene cannot be priced",
                rs.where(src),
                "set `duration:` to the input video's length in seconds",
            )
        elif duration is None and ctx.may_read(ref):
            yield error(
                "VS306",
                f"cannot read the length of {raw!r} (not an MP4/MOV?)",
                rs.where(src),
                "re-encode it as MP4, or set `duration:` to its length",
            )
        return
    if duration is not None and abs(duration - length) > 0.5:
        yield error(
            "VS205",
            f"{row.label} output follows the {src}'s length ({length:.1f} s), not {duration} s",
            rs.where("duration"),
            "remove `duration` from this scene",
        )
    if row.endpoint == "character_performance":
        lo, hi = cat.PERFORMANCE_DURATION
        if not lo <= length <= hi:
            yield error(
                "VS307",
                f"the performance video is {length:.1f} s; act_two takes {lo:g}-{hi:g} s",
                rs.where("performance"),
                "trim or extend the performance video",
            )
