"""Named catalogue rules. Each yields diagnostics for one resolved scene (or the project); none stops early."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, PathT, error, warning
from vidspec.core.inputs import FORMATS, MediaKind, input_ref, scene_inputs
from vidspec.core.pricing import estimate_speech_seconds
from vidspec.core.resolve import ResolvedScene
from vidspec.core.spec import Narration, Project, ReferenceImage, Sfx
from vidspec.core.timing import Timing, narration_parts, transition_share

TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,15}$")
TAG_USE_RE = re.compile(r"@([A-Za-z][A-Za-z0-9_]*)")
NEGATIVE_RE = re.compile(r"\b(no|without|don'?t|do not|never|avoid)\s+([a-z][\w-]*)", re.IGNORECASE)
MULTI_SCENE_RE = re.compile(
    r"\b(cut to|then cuts? to|next scene|scene \d+|after that,|afterwards,|meanwhile|smash cut)\b",
    re.IGNORECASE,
)


def suggest(word: str, choices: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    lower = {c.lower(): c for c in choices}
    if word.lower() in lower:
        return [lower[word.lower()]]
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.6)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...], fallback: str | None = None) -> str | None:
    close = suggest(word, choices)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return fallback


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---- text ---------------------------------------------------------------------------------------


def check_prompt_text(text: str, path: PathT, what: str) -> Iterator[Diagnostic]:
    n = utf16_len(text)
    if n > cat.PROMPT_LIMIT_UTF16:
        yield error(
            "VS206",
            f"{what} is {n} UTF-16 code units long; the limit is {cat.PROMPT_LIMIT_UTF16}",
            path,
            f"shorten it by {n - cat.PROMPT_LIMIT_UTF16} (an emoji counts as 2)",
        )


def check_prompt_advice(text: str, path: PathT) -> Iterator[Diagnostic]:
    m = NEGATIVE_RE.search(text)
    if m:
        yield warning(
            "VS701",
            f"negative phrasing '{m.group(0)}' gives unpredictable results",
            path,
            "describe what should be seen instead (e.g. 'sharp focus' rather than 'no blur')",
        )
    m2 = MULTI_SCENE_RE.search(text)
    if m2:
        yield warning(
            "VS702",
            f"the prompt seems to describe more than one scene ('{m2.group(0)}')",
            path,
            "describe a single 5-10 s scene; split the rest into scenes of their own",
        )


# ---- models -------------------------------------------------------------------------------------


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
        elif duration is None and ref.path is not None and ref.path.is_file():
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


# ---- files --------------------------------------------------------------------------------------


def check_file(
    raw: str, kinds: tuple[MediaKind, ...], path: PathT, ctx: Timing, what: str
) -> Iterator[Diagnostic]:
    ref = input_ref(raw, ctx.base)
    allowed = tuple(ext for k in kinds for ext in FORMATS[k])
    if ref.url is not None:
        if raw.startswith("data:"):
            return
        if not raw.startswith("https://"):
            yield error(
                "VS304", f"{what} URL must use https: {raw}", path, "use an https:// URL or a local file"
            )
        return
    assert ref.path is not None
    if not ref.path.exists():
        hint = None
        parent = ref.path.parent
        if parent.is_dir():
            names = [p.name for p in parent.iterdir() if p.suffix.lower() in allowed]
            close = suggest(ref.path.name, names)
            if close:
                hint = f"did you mean '{Path(raw).parent / close[0]}'?"
        yield error(
            "VS301",
            f"{what} file not found: {raw}",
            path,
            hint or "paths are relative to the spec file's folder",
        )
        return
    if ref.path.is_dir():
        yield error("VS301", f"{what} is a directory, not a file: {raw}", path)
        return
    if ref.suffix not in allowed:
        yield error(
            "VS302",
            f"{what} format '{ref.suffix or '(none)'}' is not supported",
            path,
            f"use {', '.join(e.lstrip('.') for e in allowed)}",
        )
        return
    size = ref.path.stat().st_size
    actual = sniff(ref.path)
    if actual is not None and actual not in _SUFFIX_FAMILY.get(ref.suffix, (actual,)):
        found = "is not" if actual == "unknown" else f"holds {actual.upper()} data, not"
        yield error("VS302", f"{what} {raw} {found} {ref.suffix.lstrip('.').upper()}", path,
                    "re-export it, or rename it to match its content")  # fmt: skip
        return
    if size > cat.UPLOAD_LIMIT:
        yield error("VS305", f"{what} is {size / 2**20:.0f} MB; uploads take at most 200 MB", path)
    elif size > cat.DATA_URI_LIMIT:
        yield warning(
            "VS303",
            f"{what} is {size / 2**20:.1f} MB, over 5 MB: it will go through an ephemeral upload",
            path,
            None,
        )


_SUFFIX_FAMILY = {".jpg": ("jpeg",), ".jpeg": ("jpeg",), ".png": ("png",), ".webp": ("webp",),
                  ".mp4": ("mp4",), ".mov": ("mp4",)}  # fmt: skip


def sniff(path: Path) -> str | None:
    """What the first bytes say the file is (images and ISO media only); None when unknown."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return None
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    return "unknown" if len(head) >= 12 and Path(path).suffix.lower() in _SUFFIX_FAMILY else None


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


# ---- per scene ----------------------------------------------------------------------------------


def check_scene(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
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


def check_image(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    img = rs.get("image")
    if img is None:
        return
    if isinstance(img, str):
        yield from check_file(img, ("image",), rs.where("image"), ctx, "image")
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


def check_narration(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    parts = narration_parts(rs)
    if parts is None:
        return
    text, voice, model = parts
    n = rs.get("narration")
    npath = rs.where("narration")
    model_path = (*npath, "model") if isinstance(n, Narration) else npath
    yield from check_model_kind(model, "speech", model_path)
    text_path = (*npath, "text") if isinstance(n, Narration) else npath
    if not text.strip():
        yield error("VS103", "the narration text is empty", text_path)
    yield from check_prompt_text(text, text_path, "the narration")
    if voice not in cat.VOICES:
        vpath = (*npath, "voice") if isinstance(n, Narration) and n.voice else rs.where("voice")
        yield error(
            "VS501",
            f"unknown voice preset '{voice}'",
            vpath,
            did_you_mean(voice, cat.VOICES, "see the voice list in `vidspec models --voices`"),
        )
    est = estimate_speech_seconds(text) + (rs.get("narration_offset") or 0.0)
    seconds = ctx.scene_seconds(rs)
    if seconds and est <= seconds and est > seconds - ctx.overlap_after(rs.index):
        yield warning("VS602", f"the narration will take about {est:.1f} s (at 150 words a minute) and run into "
                      f"the crossfade to the next scene, over its first words", text_path,
                      "shorten the text, add narration_offset to the next scene, or use a cut")  # fmt: skip
    if seconds and est > seconds:
        policy = rs.get("fit_audio")
        effect = {
            "extend": "the last frame will be held until it ends",
            "trim": "it will be cut",
            "error": "the stitch will fail",
        }[policy]
        yield warning(
            "VS602",
            f"the narration will take about {est:.1f} s (at 150 words a minute) "
            f"but the scene is {seconds:g} s; fit_audio={policy}: {effect}",
            text_path,
            "shorten the text, lengthen the scene, or set fit_audio",
        )


def check_sfx(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    sfx = rs.get("sfx")
    if sfx is None:
        return
    spath = rs.where("sfx")
    if isinstance(sfx, Sfx):
        yield from check_model_kind(sfx.model, "sound", (*spath, "model"))
        yield from check_prompt_text(sfx.prompt, (*spath, "prompt"), "the sound prompt")
        lo, hi = cat.SOUND_DURATION
        if sfx.duration is not None and not lo <= sfx.duration <= hi:
            yield error(
                "VS502",
                f"sound duration {sfx.duration:g} s is out of range",
                (*spath, "duration"),
                f"eleven_text_to_sound_v2 takes {lo:g}-{hi:g} s",
            )
        seconds = ctx.scene_seconds(rs)
        if seconds and sfx.at >= seconds:
            yield warning(
                "VS604",
                f"the sound starts at {sfx.at:g} s, after the {seconds:g} s scene ends",
                (*spath, "at"),
                f"use a value below {seconds:g}",
            )
    else:
        yield from check_prompt_text(sfx, spath, "the sound prompt")


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
    out = project.output
    if out.ratio is not None and not re.fullmatch(r"[1-9]\d{1,4}:[1-9]\d{1,4}", out.ratio):
        yield error(
            "VS104",
            f"output ratio '{out.ratio}' is not W:H in pixels",
            ("output", "ratio"),
            "for example 1280:720",
        )
    elif out.ratio is not None and any(int(x) % 2 for x in out.ratio.split(":")):
        yield error(
            "VS104",
            f"output ratio '{out.ratio}' has an odd side; H.264 yuv420p needs even sizes",
            ("output", "ratio"),
        )
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
