"""A valid project -> the assets a build makes, each with its wire request body and its credits.

Bodies hold placeholders for inputs: {"$file": "<absolute path>", "kind": ...} for a local file and
{"$asset": "<asset name>"} for another asset's output. keys.py hashes them; the executor fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vidspec.core import catalog as cat
from vidspec.core.inputs import MediaKind, input_ref, is_url, media_kind_of, scene_inputs
from vidspec.core.pricing import credits, estimate_speech_seconds
from vidspec.core.resolve import ResolvedScene, resolve
from vidspec.core.spec import GeneratedImage, Project, ReferenceImage, Sfx
from vidspec.core.timing import Timing, narration_parts

AssetKind = Literal["image", "video", "narration", "sfx", "dub"]
KIND_LABELS: dict[str, str] = {
    "image": "reference image", "video": "video", "narration": "narration", "sfx": "sound", "dub": "dub",
}  # fmt: skip


@dataclass(frozen=True)
class Asset:
    name: str  # "<scene id>.<kind>": for people and the lockfile; never part of the cache key
    scene_id: str
    scene_index: int
    kind: AssetKind
    row: cat.ModelRow
    body: dict[str, Any]
    deps: tuple[str, ...]
    credits: int
    seconds: float | None  # the output's expected length; None for images
    seed: int | None = None

    @property
    def media(self) -> MediaKind:
        return {"image": "image", "video": "video"}.get(self.kind, "audio")  # type: ignore[return-value]

    def files(self) -> list[Path]:
        return [Path(p["$file"]) for p in walk_placeholders(self.body) if "$file" in p]


@dataclass(frozen=True)
class Graph:
    project: Project
    base: Path
    scenes: tuple[ResolvedScene, ...]
    assets: tuple[Asset, ...]  # dependencies come before dependents

    def by_name(self) -> dict[str, Asset]:
        return {a.name: a for a in self.assets}

    def for_scene(self, scene_id: str) -> list[Asset]:
        return [a for a in self.assets if a.scene_id == scene_id]

    @property
    def total_credits(self) -> int:
        return sum(a.credits for a in self.assets)


def walk_placeholders(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        if "$file" in value or "$asset" in value:
            return [value]
        return [p for v in value.values() for p in walk_placeholders(v)]
    if isinstance(value, list):
        return [p for v in value for p in walk_placeholders(v)]
    return []


def _uri(raw: str, base: Path, kind: MediaKind) -> Any:
    if is_url(raw):
        return raw
    ref = input_ref(raw, base)
    return {"$file": str(ref.path), "kind": kind}


def _moderation(body: dict[str, Any], rs_value: Any, row: cat.ModelRow) -> None:
    if rs_value is not None and "public_figure_threshold" in row.options:
        body["contentModeration"] = {"publicFigureThreshold": rs_value}


def _ref_images(refs: list[ReferenceImage], base: Path) -> list[dict[str, Any]]:
    out = []
    for r in refs:
        item: dict[str, Any] = {"uri": _uri(r.path, base, "image")}
        if r.tag is not None:
            item["tag"] = r.tag
        out.append(item)
    return out


def image_asset(rs: ResolvedScene, img: GeneratedImage, base: Path) -> Asset:
    row = cat.row(img.model, "text_to_image")
    assert row is not None
    ratio = img.ratio or rs.get("ratio")
    body: dict[str, Any] = {"model": row.model, "promptText": img.prompt, "ratio": ratio}
    if img.references:
        body["referenceImages"] = _ref_images(list(img.references), base)
    if img.seed is not None:
        body["seed"] = img.seed
    _moderation(body, rs.get("public_figure_threshold"), row)
    return Asset(
        f"{rs.id}.image", rs.id, rs.index, "image", row, body, (), credits(row, ratio=ratio), None, img.seed
    )


def video_asset(rs: ResolvedScene, ctx: Timing, image: Asset | None) -> Asset:
    base = ctx.base
    inputs = scene_inputs(rs)
    row = cat.row(rs.get("model"), cat.video_endpoint_for(inputs))
    assert row is not None
    seconds = ctx.scene_seconds(rs)
    body: dict[str, Any] = {"model": row.model}
    if rs.get("prompt"):
        body["promptText"] = rs.get("prompt")
    deps: tuple[str, ...] = ()
    if row.endpoint == "image_to_video":
        uri: Any = {"$asset": image.name} if image is not None else _uri(rs.get("image"), base, "image")
        deps = (image.name,) if image is not None else ()
        position = rs.get("image_position")
        body["promptImage"] = uri if position == "first" else [{"uri": uri, "position": position}]
    elif row.endpoint == "video_to_video":
        body["videoUri"] = _uri(rs.get("video"), base, "video")
        if rs.get("references"):
            body["references"] = [
                {"type": "image", "uri": _uri(r.path, base, "image")} for r in rs.get("references")
            ]
    elif row.endpoint == "character_performance":
        character = rs.get("character")
        ckind = media_kind_of(input_ref(character, base))
        body["character"] = {"type": ckind, "uri": _uri(character, base, ckind)}
        body["reference"] = {"type": "video", "uri": _uri(rs.get("performance"), base, "video")}
    if row.ratios:
        body["ratio"] = rs.get("ratio")
    if row.durations is not None:
        body["duration"] = int(seconds)
    audio = True
    if "audio" in row.options:
        audio = bool(rs.get("audio"))
        body["audio"] = audio  # Veo's default is unspecified: always send it
    if rs.get("seed") is not None:
        body["seed"] = rs.get("seed")
    _moderation(body, rs.get("public_figure_threshold"), row)
    return Asset(
        f"{rs.id}.video",
        rs.id,
        rs.index,
        "video",
        row,
        body,
        deps,
        credits(row, seconds=seconds, audio=audio),
        seconds,
        rs.get("seed"),
    )


def narration_asset(rs: ResolvedScene) -> Asset | None:
    parts = narration_parts(rs)
    if parts is None:
        return None
    text, voice, model = parts
    row = cat.row(model, "text_to_speech")
    assert row is not None
    body = {"model": row.model, "promptText": text, "voice": {"type": "runway-preset", "presetId": voice}}
    return Asset(
        f"{rs.id}.narration",
        rs.id,
        rs.index,
        "narration",
        row,
        body,
        (),
        credits(row, chars=len(text)),
        estimate_speech_seconds(text),
    )


def sfx_asset(rs: ResolvedScene, ctx: Timing) -> Asset | None:
    sfx = rs.get("sfx")
    if sfx is None:
        return None
    if isinstance(sfx, str):
        sfx = Sfx(prompt=sfx)
    row = cat.row(sfx.model, "sound_effect")
    assert row is not None
    lo, hi = cat.SOUND_DURATION
    # Always send a duration so the price is definite: the scene's length unless one is given.
    seconds = sfx.duration if sfx.duration is not None else min(hi, max(lo, ctx.scene_seconds(rs) - sfx.at))
    body: dict[str, Any] = {"model": row.model, "promptText": sfx.prompt, "duration": seconds}
    if sfx.loop:
        body["loop"] = True
    return Asset(
        f"{rs.id}.sfx", rs.id, rs.index, "sfx", row, body, (), credits(row, seconds=seconds), seconds
    )


def dub_asset(project: Project, narration: Asset) -> Asset | None:
    if project.dub is None:
        return None
    row = cat.row(project.dub.model, "voice_dubbing")
    assert row is not None
    body = {"model": row.model, "audioUri": {"$asset": narration.name}, "targetLang": project.dub.language}
    seconds = narration.seconds or 0.0
    return Asset(
        f"{narration.scene_id}.dub",
        narration.scene_id,
        narration.scene_index,
        "dub",
        row,
        body,
        (narration.name,),
        credits(row, seconds=seconds),
        seconds,
    )


def build_graph(project: Project, base: Path, scenes: list[ResolvedScene] | None = None) -> Graph:
    """Assumes a valid project (validate first)."""
    scenes = scenes if scenes is not None else resolve(project)
    ctx = Timing(project, base, scenes)
    assets: list[Asset] = []
    for rs in scenes:
        img = rs.get("image")
        image = image_asset(rs, img, base) if isinstance(img, GeneratedImage) else None
        if image is not None:
            assets.append(image)
        assets.append(video_asset(rs, ctx, image))
        narration = narration_asset(rs)
        if narration is not None:
            assets.append(narration)
            dub = dub_asset(project, narration)
            if dub is not None:
                assets.append(dub)
        sfx = sfx_asset(rs, ctx)
        if sfx is not None:
            assets.append(sfx)
    return Graph(project, base, tuple(scenes), tuple(assets))
