"""The project file, spec v1, as pydantic models (strict: nothing is coerced)."""

from __future__ import annotations

import math
import re
import types
import typing
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from vidspec.core import catalog as cat

SCENE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

# Finite and bounded: an `.inf` offset or a 27-hour scene is a typo, not a film.
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]
Seed = Annotated[int, Field(ge=0, le=4_294_967_295)]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Every pattern is published in the JSON Schema too, so it must be ECMA-262 as well as what pydantic runs:
# no inline flags such as (?i), no \A or \Z, no (?P<name>...).
OUTPUT_SUFFIX_PATTERN = r"\.([mM][pP]4|[mM][oO][vV])$"
Transition = Literal["cut", "crossfade", "fade"]
Fit = Literal["cover", "contain", "stretch"]
FitAudio = Literal["extend", "trim", "error"]


# Far past every real bound (a seed's is 2**32 - 1); beyond it a float no longer holds every whole number.
MAX_MAGNITUDE = 2**53
# YAML refuses these raw, but its escapes ("\0", "\e") make them; no prompt, name or file path holds one.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _admits_number(tp: Any) -> bool:
    if tp in (int, float):
        return True
    if typing.get_origin(tp) is Literal:
        return any(isinstance(a, (int, float)) and not isinstance(a, bool) for a in typing.get_args(tp))
    return any(_admits_number(a) for a in typing.get_args(tp))


@cache
def numeric_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of a spec model that take a number (alone or in a union)."""
    return frozenset(name for name, info in model.model_fields.items() if _admits_number(info.annotation))


def _as_float(bound: object) -> float | None:
    return float(bound) if isinstance(bound, int | float) else None


def numeric_bounds(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """(lowest, highest) a numeric field allows, from its annotations; None where it is open."""
    lo: float | None = None
    hi: float | None = None
    info = model.model_fields.get(name)
    if info is None:
        return lo, hi
    todo: list[Any] = [info.annotation, *info.metadata]
    while todo:
        item = todo.pop()
        for attr in ("ge", "gt"):  # annotated_types.Ge / Gt, as pydantic records Field(ge=...)
            lo = _as_float(getattr(item, attr, None)) if hasattr(item, attr) else lo
        for attr in ("le", "lt"):
            hi = _as_float(getattr(item, attr, None)) if hasattr(item, attr) else hi
        if isinstance(item, FieldInfo):  # Field(...) inside Annotated
            todo.extend(item.metadata)
        elif typing.get_origin(item) in (typing.Annotated, typing.Union, types.UnionType):
            todo.extend(typing.get_args(item))
    return lo, hi


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        """Every field, before its own checks: a string without control characters (a NUL in a path ends in
        a ValueError from the OS); a number finite and small enough to be a float.

        A YAML integer has any number of digits: left to pydantic, a 400-digit one is "not a number" for a
        float field, passes an unbounded int field, and ends as an OverflowError in float() further on."""
        if isinstance(value, str):
            bad = CONTROL_CHARACTER.search(value)
            if bad is not None:
                raise PydanticCustomError(
                    "control_character",
                    "Input holds the control character U+{code}",
                    {"code": f"{ord(bad.group()):04X}"},
                )
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        if info.field_name not in numeric_fields(cls):
            return value
        return plain_number(value)


def plain_number(value: Any) -> Any:
    """A number finite and small enough to be a float (anything else passes through to the field's checks)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise PydanticCustomError("number_too_large", "Input is too far out of range")
    return value


# An element of a list of seconds (`trim`): checked like a numeric field, each at its own index.
ListSeconds = Annotated[float, BeforeValidator(plain_number), Field(ge=0, le=3600, allow_inf_nan=False)]


class ReferenceImage(_Model):
    """A reference image for gen4_image / gen4_image_turbo (or gen4_aleph): a file or an https URL."""

    path: str = Field(description="a path relative to the spec, or an https URL")
    tag: str | None = Field(
        None, description="3-16 characters, a letter first; refer to it as @tag in the prompt"
    )


class GeneratedImage(_Model):
    """A reference image made by text_to_image before the scene's video."""

    prompt: str
    model: str = Field("gen4_image", description="gen4_image or gen4_image_turbo")
    ratio: str | None = Field(None, description="default: the scene's ratio when the image model supports it")
    seed: Seed | None = None
    references: list[ReferenceImage] = Field(default_factory=list)


MAX_TAKES = 8
PREVIOUS = "previous"  # `image: {from: previous}`: the scene before this one


class FrameRef(_Model):
    """Continuity: a frame of another scene's clip as this scene's reference image (image-to-video)."""

    source: str = Field(
        alias="from", description="the id of the scene whose clip gives the frame, or `previous`"
    )
    frame: Literal["first", "last"] | Seconds = Field(
        "last", description="`first`, `last`, or a time in seconds inside that clip"
    )


class Narration(_Model):
    text: str
    voice: str | None = Field(
        None, description="a Runway voice preset; default: the scene's `voice`, else Maya"
    )
    model: str = "eleven_multilingual_v2"


class Sfx(_Model):
    prompt: str
    duration: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        None, description="0.5-30 s; default: the scene's duration (at most 30)"
    )
    at: Seconds = Field(0.0, description="seconds into the scene")
    loop: bool = False
    volume: Annotated[float, Field(ge=0, le=4, allow_inf_nan=False)] = 1.0
    model: str = "eleven_text_to_sound_v2"


class Dub(_Model):
    language: str = Field(description="target language code, e.g. fr")
    model: str = "eleven_voice_dubbing"


class Music(_Model):
    path: str
    volume: Annotated[float, Field(ge=0, le=4, allow_inf_nan=False)] = 0.6
    fade_in: Seconds = 1.0
    fade_out: Seconds = 2.0
    duck: bool | Annotated[float, Field(ge=0, le=1)] = Field(
        True, description="lower the music under narration: true (to 0.35), false, or a gain 0-1"
    )


class Loudness(_Model):
    """EBU R128 targets of the final mix (every sound is first normalised to a level for its role)."""

    integrated: Annotated[float, Field(ge=-40, le=-5, allow_inf_nan=False)] = Field(
        -16.0, description="integrated loudness of the mix, LUFS"
    )
    true_peak: Annotated[float, Field(ge=-9, le=0, allow_inf_nan=False)] = Field(
        -1.0, description="ceiling of the mix's true peak, dBTP"
    )


class Output(_Model):
    path: Annotated[str, Field(pattern=OUTPUT_SUFFIX_PATTERN)] | None = Field(
        None, description="an .mp4 or .mov file; default build/<name>.mp4, relative to the spec file"
    )
    ratio: str | None = Field(
        None, description="frame size W:H of the final cut; default: the first scene's ratio"
    )
    fps: Annotated[int, Field(ge=1, le=120)] = 24
    captions: Literal["sidecar", "burn"] = Field(
        "sidecar", description="sidecar .srt/.vtt always; burn also draws them"
    )
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = "medium"
    engine: Literal["ffmpeg", "moviepy"] = Field(
        "ffmpeg",
        description="ffmpeg: one filter graph (fast); moviepy: composited in Python (slower, same cut)",
    )
    fit: Fit | None = Field(
        None, description="how clips fill this frame, for scenes that set no `fit` of their own"
    )
    loudness: Loudness | Annotated[float, Field(ge=-40, le=-5, allow_inf_nan=False)] | Literal[False] = Field(
        default_factory=Loudness,
        description="mix loudness: {integrated: LUFS, true_peak: dBTP}, a number (integrated LUFS), "
        "or false to keep every sound at the level it was made",
    )

    @field_validator("loudness", mode="before")
    @classmethod
    def _false_not_zero(cls, value: Any) -> Any:
        # Literal[False] alone would take 0 (0 == False) and silently turn normalisation off.
        if value is not False and not isinstance(value, bool) and value == 0:
            raise PydanticCustomError(
                "loudness_zero", "a loudness of 0 LUFS is not allowed: use -40 to -5, or false"
            )
        return value


class SceneFields(_Model):
    """Every field a scene (and `defaults`) may set. None means: not set here."""

    prompt: str | None = Field(None, description="promptText, at most 1000 UTF-16 code units")
    model: str | None = Field(None, description="default gen4.5")
    ratio: str | None = Field(None, description="output size W:H, e.g. 1280:720")
    duration: int | None = Field(
        None, description="seconds; video-to-video and act_two take their input's length"
    )
    seed: Seed | None = None
    image: str | GeneratedImage | FrameRef | None = Field(
        None,
        description="reference image: a path, an https URL, {prompt, model, ...} to generate one, or "
        "{from: SCENE|previous, frame: first|last|SECONDS} for a frame of another scene's clip",
    )
    image_position: Literal["first", "last"] | None = Field(
        None, description="Veo also accepts last; default first"
    )
    video: str | None = Field(None, description="input video for video-to-video (gen4_aleph, aleph2)")
    references: list[ReferenceImage] | None = Field(None, description="reference images for video-to-video")
    character: str | None = Field(None, description="act_two: the character image or video")
    performance: str | None = Field(None, description="act_two: the reference performance video, 3-30 s")
    narration: str | Narration | None = None
    voice: str | None = Field(None, description="voice preset for narration; default Maya")
    sfx: str | Sfx | None = None
    transition: Transition | None = Field(
        None, description="into this scene from the previous one; default cut"
    )
    transition_duration: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] | None = Field(
        None, description="seconds; default 0.5"
    )
    fit: Fit | None = Field(None, description="fit the clip into the output frame; default cover")
    fit_audio: FitAudio | None = Field(None, description="narration longer than the clip; default extend")
    narration_offset: Seconds | None = Field(None, description="seconds after the scene start; default 0")
    keep_audio: bool | None = Field(
        None, description="keep the clip's own sound (Veo's audio, or a footage clip's); default true"
    )
    audio: bool | None = Field(None, description="Veo: generate audio (40/s) or not (20/s); default true")
    public_figure_threshold: Literal["auto", "low"] | None = None
    takes: Annotated[int, Field(ge=1, le=MAX_TAKES)] | None = Field(
        None, description="variants of the video, each with its own seed (1-8); `vidspec pick` keeps one"
    )


class RatioOverride(_Model):
    """A native clip for the outputs of one frame size: the scene's video made again with these fields."""

    model: str | None = Field(None, description="default: the scene's model")
    ratio: str | None = Field(None, description="the clip's ratio; default: the output ratio it is keyed by")
    prompt: str | None = Field(None, description="default: the scene's prompt")


class Scene(SceneFields):
    id: str = Field(pattern=SCENE_ID_PATTERN, description="unique, [a-z0-9][a-z0-9_-]*")
    clip: str | None = Field(
        None, description="your own footage (.mp4 or .mov) instead of a generated clip: no credits"
    )
    trim: Annotated[list[ListSeconds], Field(min_length=2, max_length=2)] | None = Field(
        None, description="[start, end] in seconds of `clip` to use; default: all of it"
    )
    ratio_overrides: dict[str, RatioOverride] | None = Field(
        None,
        description='per output frame ("720:1280"): generate a native clip with this model, ratio, prompt',
    )


class Defaults(SceneFields):
    """Any scene field; a scene's own value wins."""


class Project(_Model):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="vidspec project",
    )

    version: Literal[1]
    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=100)] | None = Field(
        None, description="names the outputs: letters, digits, . _ -; default: the spec file's stem"
    )
    output: Output = Field(default_factory=Output)
    outputs: Annotated[list[Output], Field(min_length=1)] | None = Field(
        None,
        description="several final cuts from the same clips, each with its own path, ratio, fit, captions",
    )
    budget: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = Field(
        None, description="the most credits the film may cost in total, across builds"
    )
    defaults: Defaults = Field(default_factory=Defaults)
    music: Music | None = None
    dub: Dub | None = Field(None, description="dub every narration into this language")
    scenes: list[Scene] = Field(min_length=1)


SCENE_FIELD_NAMES: tuple[str, ...] = tuple(SceneFields.model_fields)
# Fields of a scene alone (`defaults` cannot set them): what a ResolvedScene also carries.
SCENE_ONLY_FIELDS: tuple[str, ...] = ("clip", "trim", "ratio_overrides")


# A spec may name its schema for editors (`"$schema": "..."`, in JSON or YAML); vidspec ignores it.
SCHEMA_KEY = "$schema"


def _ratios(kind: cat.Kind) -> list[str]:
    return list(dict.fromkeys(r for row in cat.CATALOG if row.kind == kind for r in row.ratios))


def _closed_sets() -> dict[str, dict[str, list[str]]]:
    """Plain-string fields whose values the catalogue lists: enums in the published schema, so editors
    complete them and flag a typo. Validation keeps them strings: vidspec's own rules say what is wrong,
    with a did-you-mean (VS201, VS204, VS501, VS503)."""
    scene = {"model": cat.models_of_kind("video"), "ratio": _ratios("video"), "voice": list(cat.VOICES)}
    return {
        "Scene": scene,
        "Defaults": scene,
        "GeneratedImage": {"model": cat.models_of_kind("image"), "ratio": _ratios("image")},
        "Narration": {"model": cat.models_of_kind("speech"), "voice": list(cat.VOICES)},
        "Sfx": {"model": cat.models_of_kind("sound")},
        "Dub": {"model": cat.models_of_kind("dub"), "language": list(cat.DUB_LANGUAGES)},
    }


def json_schema() -> dict[str, Any]:
    schema = Project.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for model, fields in _closed_sets().items():
        props = schema["$defs"][model]["properties"]
        for name, values in fields.items():
            # `str | None` is anyOf [string, null]: the enum goes on the string branch, null stays allowed.
            for branch in props[name].get("anyOf", [props[name]]):
                if branch.get("type") == "string":
                    branch["enum"] = values
    schema["properties"] = {
        SCHEMA_KEY: {"type": "string", "description": "the JSON Schema this file follows, for editors"},
        **schema["properties"],
    }
    return schema
