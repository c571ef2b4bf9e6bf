"""A valid project -> the assets a build makes: each with its request in vidspec's words, and its credits.

An asset's inputs are typed: a FileRef (a local file or a URL) or an AssetRef (another asset's output), each
with its media kind. requests.py turns an asset into a Runway request body; keys.py hashes that body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from vidspec.core import catalog as cat
from vidspec.core.continuity import frame_ref, scene_order, source_index
from vidspec.core.hashing import canonical_json, sha256_hex
from vidspec.core.inputs import MediaKind, input_ref, media_kind_of, scene_inputs
from vidspec.core.pricing import credits, estimate_speech_seconds
from vidspec.core.resolve import ResolvedScene, resolve
from vidspec.core.spec import GeneratedImage, Project, RatioOverride, ReferenceImage, Sfx
from vidspec.core.timing import Timing, narration_parts

AssetKind = Literal["image", "video", "narration", "sfx", "dub"]


@dataclass(frozen=True)
class FileRef:
    """An input given in the spec: a local file (absolute path) or a URL (sent as written)."""

    media: MediaKind
    path: Path | None = None
    url: str | None = None

    @classmethod
    def of(cls, raw: str, base: Path, media: MediaKind | None = None) -> FileRef:
        """`media` None: guess it from the file's extension."""
        ref = input_ref(raw, base)
        return cls(media or media_kind_of(ref), ref.path, ref.url)


@dataclass(frozen=True)
class AssetRef:
    """An input made by the build: another asset's output."""

    name: str
    media: MediaKind


@dataclass(frozen=True)
class Still:
    """A frame of a clip (another scene's clip: a made video, or a file), as an image input. It is extracted
    locally (the media layer), never created: its identity is the clip's and the frame's."""

    clip: AssetRef | FileRef
    at: str | float  # "first", "last", or seconds into the clip
    media: MediaKind = "image"

    @property
    def dep(self) -> str | None:
        """The asset it is taken from, if the clip is made by the build."""
        return self.clip.name if isinstance(self.clip, AssetRef) else None

    @property
    def label(self) -> str:
        """What names this frame among an asset's inputs (the executor hands its file to producers by it)."""
        clip = self.clip.name if isinstance(self.clip, AssetRef) else str(self.clip.path or self.clip.url)
        return f"{clip}@{self.at}"


Input = FileRef | AssetRef | Still


@dataclass(frozen=True)
class Reference:
    """A reference image, with the tag a prompt may call it by (@tag)."""

    ref: FileRef
    tag: str | None = None


# The request fields of an asset, in the order their inputs are walked.
REQUEST_FIELDS = (
    "prompt", "ratio", "duration", "audio", "loop", "seed", "voice", "language", "public_figure_threshold",
    "image", "video", "references", "character", "performance", "narration", "trim",
)  # fmt: skip


@dataclass(frozen=True)
class Asset:
    name: str  # "<scene id>.<kind>": for people and the lockfile; never part of the cache key
    scene_id: str
    scene_index: int
    kind: AssetKind
    row: cat.ModelRow
    credits: int
    seconds: float | None  # the output's expected length; None for images
    # The request, in vidspec's words (requests.py writes the API's). None and () are not sent.
    prompt: str | None = None  # also a narration's text
    ratio: str | None = None
    duration: float | None = None  # as sent: an int for video
    audio: bool | None = None  # Veo: generate audio
    loop: bool | None = None
    seed: int | None = None
    voice: str | None = None
    language: str | None = None  # a dub's target language
    public_figure_threshold: str | None = None
    image: FileRef | AssetRef | Still | None = None  # image-to-video's frame
    image_position: str = "first"  # where that frame sits
    video: FileRef | None = None
    references: tuple[Reference, ...] = ()
    character: FileRef | None = None
    performance: FileRef | None = None
    narration: AssetRef | None = None  # the audio a dub translates
    trim: tuple[float, float] | None = None  # footage: the [start, end] seconds of the clip used
    for_ratio: str | None = None  # a ratio override's clip: the output frame it serves (None: every output)
    take: int = 1  # which take of the scene's video (takes: N); take 1 is the film's until one is picked

    @property
    def is_footage(self) -> bool:
        return self.row.endpoint == "footage"

    @property
    def media(self) -> MediaKind:
        return {"image": "image", "video": "video"}.get(self.kind, "audio")  # type: ignore[return-value]

    def request_fields(self) -> dict[str, Any]:
        """The request fields that are set, by vidspec name."""
        fields = {name: getattr(self, name) for name in REQUEST_FIELDS}
        return {name: v for name, v in fields.items() if v is not None and v != ()}

    def inputs(self) -> list[tuple[str, Input]]:
        """Every input of the request, with the field that carries it: the one walker over inputs."""
        found: list[tuple[str, Input]] = []
        for name, value in self.request_fields().items():
            for item in value if isinstance(value, tuple) else (value,):  # a trim's numbers are no input
                ref = item.ref if isinstance(item, Reference) else item
                if isinstance(ref, (FileRef, AssetRef, Still)):
                    found.append((name, ref))
        return found

    @property
    def deps(self) -> tuple[str, ...]:
        """The assets this one needs first, by name."""
        return tuple(dict.fromkeys(name for _, r in self.inputs() if (name := dep_of(r)) is not None))

    def files(self) -> list[Path]:
        """The local files it reads."""
        refs = [r.clip if isinstance(r, Still) else r for _, r in self.inputs()]
        return [r.path for r in refs if isinstance(r, FileRef) and r.path is not None]


def dep_of(ref: Input) -> str | None:
    """The asset an input is made from, if any."""
    if isinstance(ref, AssetRef):
        return ref.name
    return ref.dep if isinstance(ref, Still) else None


@dataclass(frozen=True)
class Graph:
    project: Project
    base: Path
    scenes: tuple[ResolvedScene, ...]
    assets: tuple[Asset, ...]  # dependencies come before dependents

    def by_name(self) -> dict[str, Asset]:
        return {a.name: a for a in self.assets}

    def for_scene(self, scene_id: str) -> list[Asset]:
        """The scene's assets in the film: its video is take 1 (the other takes are in `takes`)."""
        return [a for a in self.assets if a.scene_id == scene_id and a.take == 1]

    def takes(self, scene_id: str) -> list[Asset]:
        """Every take of the scene's video (not its ratio overrides' clips), take 1 first."""
        return [
            a for a in self.assets if a.scene_id == scene_id and a.kind == "video" and a.for_ratio is None
        ]

    def video_for(self, scene_id: str, ratio: str | None = None) -> Asset:
        """The scene's clip in an output of frame `ratio`: its ratio override's when it has one for it."""
        videos = [a for a in self.for_scene(scene_id) if a.kind == "video"]
        native = [a for a in videos if ratio is not None and a.for_ratio == ratio]
        return native[0] if native else next(a for a in videos if a.for_ratio is None)

    @property
    def total_credits(self) -> int:
        return sum(a.credits for a in self.assets)


def _threshold(rs: ResolvedScene, row: cat.ModelRow) -> str | None:
    value = rs.get("public_figure_threshold")
    return value if "public_figure_threshold" in row.options else None


def _references(refs: list[ReferenceImage] | None, base: Path) -> tuple[Reference, ...]:
    return tuple(Reference(FileRef.of(r.path, base, "image"), r.tag) for r in refs or ())


def image_asset(rs: ResolvedScene, img: GeneratedImage, base: Path) -> Asset:
    row = cat.row(img.model, "text_to_image")
    assert row is not None
    ratio = img.ratio or rs.get("ratio")
    return Asset(
        f"{rs.id}.image", rs.id, rs.index, "image", row, credits(row, ratio=ratio), None,
        prompt=img.prompt,
        ratio=ratio,
        references=_references(img.references, base),
        seed=img.seed,
        public_figure_threshold=_threshold(rs, row),
    )  # fmt: skip


def scene_clip(rs: ResolvedScene) -> AssetRef | FileRef:
    """The clip a scene shows in the film (the hook continuity takes frames from): its made video."""
    return AssetRef(f"{rs.id}.video", "video")


def video_asset(rs: ResolvedScene, ctx: Timing, image: Asset | None) -> Asset:
    base = ctx.base
    row = cat.row(rs.get("model"), cat.video_endpoint_for(scene_inputs(rs)))
    assert row is not None
    seconds = ctx.scene_seconds(rs)
    frame: FileRef | AssetRef | Still | None = None
    video: FileRef | None = None
    character: FileRef | None = None
    performance: FileRef | None = None
    references: tuple[Reference, ...] = ()
    ref = frame_ref(rs)
    src = source_index(rs, ctx.scenes) if ref is not None else None
    if row.endpoint == "image_to_video" and image is not None:
        frame = AssetRef(image.name, "image")
    elif row.endpoint == "image_to_video" and ref is not None:
        assert src is not None  # validated
        frame = Still(scene_clip(ctx.scenes[src]), ref.frame)
    elif row.endpoint == "image_to_video":
        frame = FileRef.of(rs.get("image"), base, "image")
    elif row.endpoint == "video_to_video":
        video = FileRef.of(rs.get("video"), base, "video")
        references = _references(rs.get("references"), base)
    elif row.endpoint == "character_performance":
        character = FileRef.of(rs.get("character"), base)
        performance = FileRef.of(rs.get("performance"), base, "video")
    audio = bool(rs.get("audio")) if "audio" in row.options else None  # Veo's default is unspecified: send it
    return Asset(
        f"{rs.id}.video", rs.id, rs.index, "video", row,
        credits(row, seconds=seconds, audio=True if audio is None else audio), seconds,
        prompt=rs.get("prompt") or None,
        image=frame,
        image_position=rs.get("image_position"),
        video=video,
        references=references,
        character=character,
        performance=performance,
        ratio=rs.get("ratio") if row.ratios else None,
        duration=int(seconds) if row.durations is not None else None,
        audio=audio,
        seed=rs.get("seed"),
        public_figure_threshold=_threshold(rs, row),
    )  # fmt: skip


def footage_asset(rs: ResolvedScene, ctx: Timing) -> Asset:
    """The scene's own footage: cut from the file locally (media/footage.py), 0 credits, keyed by the file's
    bytes and the trim."""
    trim = rs.get("trim")
    return Asset(
        f"{rs.id}.video", rs.id, rs.index, "video", cat.FOOTAGE_ROW, 0, ctx.scene_seconds(rs),
        video=FileRef.of(rs.get("clip"), ctx.base, "video"),
        trim=(float(trim[0]), float(trim[1])) if trim is not None else None,
    )  # fmt: skip


def override_scene(rs: ResolvedScene, ratio: str, override: RatioOverride) -> ResolvedScene:
    """The scene as its ratio override for output frame `ratio` makes it: model, ratio and prompt replaced,
    each pointing at where the override wrote it."""
    values = dict(rs.values)
    origins = dict(rs.origins)
    where = ("scenes", rs.index, "ratio_overrides", ratio)
    for name in ("model", "ratio", "prompt"):
        value = getattr(override, name)
        if value is not None:
            values[name], origins[name] = value, (*where, name)
    if override.ratio is None:
        values["ratio"], origins["ratio"] = ratio, where
    return ResolvedScene(rs.index, rs.id, values, origins)


def override_assets(rs: ResolvedScene, ctx: Timing, image: Asset | None) -> list[Asset]:
    found = []
    for ratio, override in (rs.get("ratio_overrides") or {}).items():
        asset = video_asset(override_scene(rs, ratio, override), ctx, image)
        found.append(replace(asset, name=f"{rs.id}.video@{ratio}", for_ratio=ratio))
    return found


def narration_asset(rs: ResolvedScene) -> Asset | None:
    parts = narration_parts(rs)
    if parts is None:
        return None
    text, voice, model = parts
    row = cat.row(model, "text_to_speech")
    assert row is not None
    return Asset(
        f"{rs.id}.narration", rs.id, rs.index, "narration", row,
        credits(row, chars=len(text)), estimate_speech_seconds(text),
        prompt=text,
        voice=voice,
    )  # fmt: skip


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
    return Asset(
        f"{rs.id}.sfx", rs.id, rs.index, "sfx", row, credits(row, seconds=seconds), seconds,
        prompt=sfx.prompt,
        duration=seconds,
        loop=True if sfx.loop else None,
    )  # fmt: skip


def dub_asset(project: Project, narration: Asset) -> Asset | None:
    if project.dub is None:
        return None
    row = cat.row(project.dub.model, "voice_dubbing")
    assert row is not None
    seconds = narration.seconds or 0.0
    return Asset(
        f"{narration.scene_id}.dub", narration.scene_id, narration.scene_index, "dub", row,
        credits(row, seconds=seconds), seconds,
        narration=AssetRef(narration.name, "audio"),
        language=project.dub.language,
    )  # fmt: skip


SEED_SPAN = 2**32  # seeds are 0 to 2**32 - 1


def _portable(value: Any, base: Path) -> Any:
    """A request value as the same on every checkout: files by their path relative to the spec."""
    if isinstance(value, tuple):
        return [_portable(v, base) for v in value]
    if isinstance(value, Reference):
        return [_portable(value.ref, base), value.tag]
    if isinstance(value, Still):
        return {"frame": value.at, "of": _portable(value.clip, base)}
    if isinstance(value, AssetRef):
        return {"asset": value.name}
    if isinstance(value, FileRef):
        if value.path is None:
            return value.url
        try:
            return value.path.relative_to(base).as_posix()
        except ValueError:
            return value.path.as_posix()
    return value


def take_seeds(video: Asset, takes: int, base: Path) -> list[int]:
    """One seed per take, distinct and the same on every build: the scene's own seed and the ones after it,
    or (no seed given) seeds drawn from a hash of the request, so an unchanged spec keeps its takes."""
    first = video.seed
    if first is None:
        fields = {k: _portable(v, base) for k, v in video.request_fields().items() if k != "seed"}
        digest = sha256_hex(
            canonical_json({"model": video.row.model, "endpoint": video.row.endpoint, **fields})
        )
        first = int(digest[:8], 16)
    return [(first + k) % SEED_SPAN for k in range(takes)]


def video_takes(rs: ResolvedScene, video: Asset, base: Path) -> list[Asset]:
    """The scene's video as its takes: one asset each, with its own seed; take 1 keeps the video's name."""
    takes = int(rs.get("takes") or 1)
    if takes == 1:
        return [video]
    seeds = take_seeds(video, takes, base)
    return [
        replace(video, seed=seed, take=k, name=video.name if k == 1 else f"{video.name}.take{k}")
        for k, seed in enumerate(seeds, start=1)
    ]


def build_graph(project: Project, base: Path, scenes: list[ResolvedScene] | None = None) -> Graph:
    """Assumes a valid project (validate first). Assets come in scene order, except that a scene whose
    reference frame comes from another scene's clip comes after that scene."""
    scenes = scenes if scenes is not None else resolve(project)
    ctx = Timing(project, base, scenes)
    assets: list[Asset] = []
    for rs in scene_order(scenes):
        img = rs.get("image") if rs.get("clip") is None else None  # footage: `defaults.image` is not for it
        image = image_asset(rs, img, base) if isinstance(img, GeneratedImage) else None
        if image is not None:
            assets.append(image)
        if rs.get("clip") is not None:
            assets.append(footage_asset(rs, ctx))
        else:
            assets.extend(video_takes(rs, video_asset(rs, ctx, image), base))
            assets.extend(override_assets(rs, ctx, image))
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
