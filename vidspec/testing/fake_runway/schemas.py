"""What the fake accepts: request bodies per (endpoint, model) and input asset URIs (SDK 5.24 shapes).

The tables here are the fake's own, deliberately independent of ``vidspec.core.catalog``: tests that send
what the catalogue builds to the fake then cross-check the catalogue.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DATA_URI_MAX = 5 * 1024 * 1024
ENDPOINT_MODELS: dict[str, tuple[str, ...]] = {
    "text_to_video": ("gen4.5", "veo3.1", "veo3.1_fast"),
    "image_to_video": ("gen4.5", "gen4_turbo", "veo3.1", "veo3.1_fast"),
    "video_to_video": ("gen4_aleph", "aleph2"),
    "character_performance": ("act_two",),
    "text_to_image": ("gen4_image", "gen4_image_turbo"),
    "text_to_speech": ("eleven_multilingual_v2",),
    "sound_effect": ("eleven_text_to_sound_v2",),
    "voice_dubbing": ("eleven_voice_dubbing",),
}
ALL_MODELS = sorted({m for ms in ENDPOINT_MODELS.values() for m in ms})


class Invalid(Exception):
    """A 400: the message names the offending field; ``code`` and ``path`` are the API's issue (zod style).

    ``path`` is given as the messages write it ("promptImage[0].uri") and kept as the API sends it
    (["promptImage", 0, "uri"]).
    """

    def __init__(self, message: str, path: str = "", code: str = "custom") -> None:
        super().__init__(message)
        self.code = code
        self.path: list[str | int] = wire_path(path)

    def issue(self) -> dict[str, Any]:
        return {"code": self.code, "path": self.path, "message": str(self)}


def wire_path(path: str) -> list[str | int]:
    """ "promptImage[0].uri" -> ["promptImage", 0, "uri"]."""
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


@dataclass
class Asset:
    uri: str
    family: str  # image | video | audio
    data: bytes | None  # decoded bytes for data: and runway:// URIs, None for https
    suffix: str


class Ctx:
    """What checks share: the upload table (runway:// URI -> upload) and the input assets found, by field path."""

    def __init__(self, uploads: Mapping[str, Mapping[str, Any]]) -> None:
        self.uploads = uploads
        self.assets: dict[str, Asset] = {}


Check = Callable[[Any, str, Ctx], None]
Field = tuple[bool, Check]


# ---------------------------------------------------------------- input assets


def resolve_uri(uri: str, family: str, path: str, uploads: Mapping[str, Mapping[str, Any]]) -> Asset:
    """An HTTPS URL, a finished runway:// upload of `family`, or a base64 data URI of `family`/* up to 5 MB."""
    if uri.startswith("https://"):
        if not urlsplit(uri).netloc:
            raise Invalid(f"{path}: invalid URL", path)
        return Asset(uri, family, None, Path(urlsplit(uri).path).suffix or ".bin")
    if uri.startswith("runway://"):
        up = uploads.get(uri)
        if up is None or up.get("data") is None:
            raise Invalid(f"{path}: unknown or incomplete upload {uri}", path)
        if up["family"] != family:
            raise Invalid(f"{path}: expected an {family} upload, got a {up['family']} file", path)
        return Asset(uri, family, up["data"], Path(up["filename"]).suffix)
    if uri.startswith("data:"):
        m = re.fullmatch(r"data:([\w.+-]+)/([\w.+-]+)((?:;[^,;]*)*);base64,(.*)", uri, re.S)
        if not m:
            raise Invalid(f"{path}: malformed data URI (expected data:<mime>;base64,...)", path)
        if m.group(1) != family:
            raise Invalid(f"{path}: expected a data URI of {family}/*, got {m.group(1)}/{m.group(2)}", path)
        if len(m.group(4)) > DATA_URI_MAX * 4 // 3 + 8:
            raise Invalid(f"{path}: data URI larger than 5 MB", path)
        try:
            data = base64.b64decode(m.group(4), validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"{path}: invalid base64 in data URI", path) from None
        if len(data) > DATA_URI_MAX:
            raise Invalid(f"{path}: data URI larger than 5 MB", path)
        ext = mimetypes.guess_extension(f"{m.group(1)}/{m.group(2)}") or ".bin"
        return Asset(uri, family, data, ext)
    raise Invalid(f"{path}: must be an HTTPS URL, a runway:// upload URI or a base64 data URI", path)


# ---------------------------------------------------------------- checks (messages in the API's zod style)


def _req(c: Check) -> Field:
    return (True, c)


def _opt(c: Check) -> Field:
    return (False, c)


def _where(path: str) -> str:
    return path or "body"


def _str(max_units: int | None = None) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        if not isinstance(v, str):
            raise Invalid(f"{path}: Expected string, received {type(v).__name__}", path, "invalid_type")
        if not v.strip():
            raise Invalid(f"{path}: must be a non-empty string", path, "too_small")
        if max_units is not None and len(v.encode("utf-16-le")) // 2 > max_units:
            raise Invalid(
                f"{path}: must be at most {max_units} characters (UTF-16 code units)", path, "too_big"
            )

    return check


def _lit(*values: Any) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        if (
            isinstance(v, bool)
            or v not in values
            or type(v) is not type(values[0])
            and not _same_num(v, values)
        ):
            raise Invalid(
                f"{path}: Invalid value {v!r}, expected one of {', '.join(map(repr, values))}",
                path,
                "invalid_enum_value",
            )

    return check


def _same_num(v: Any, values: tuple[Any, ...]) -> bool:
    return isinstance(v, float) and v.is_integer() and isinstance(values[0], int)


def _num(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if ok and integer:
            ok = isinstance(v, int) or float(v).is_integer()
        if not ok:
            raise Invalid(
                f"{path}: Expected {'integer' if integer else 'number'}, received {v!r}", path, "invalid_type"
            )
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Invalid(
                f"{path}: must be between {lo} and {hi}, got {v}",
                path,
                "too_small" if lo is not None and v < lo else "too_big",
            )

    return check


def _bool(v: Any, path: str, ctx: Ctx) -> None:
    if not isinstance(v, bool):
        raise Invalid(f"{path}: Expected boolean, received {v!r}", path, "invalid_type")


def _obj(fields: Mapping[str, Field]) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        if not isinstance(v, dict):
            raise Invalid(
                f"{_where(path)}: Expected object, received {type(v).__name__}", path, "invalid_type"
            )
        unknown = [k for k in v if k not in fields]
        if unknown:
            raise Invalid(
                f"Unrecognized key(s) in object{' ' + path if path else ''}: {', '.join(map(repr, unknown))}",
                path,
                "unrecognized_keys",
            )
        for name, (required, sub) in fields.items():
            sub_path = f"{path}.{name}" if path else name
            if name in v:
                sub(v[name], sub_path, ctx)
            elif required:
                raise Invalid(f"{sub_path}: Required", sub_path, "invalid_type")

    return check


def _list(item: Check, lo: int = 0, hi: int | None = None) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        if not isinstance(v, list):
            raise Invalid(f"{path}: Expected array, received {type(v).__name__}", path, "invalid_type")
        if len(v) < lo or (hi is not None and len(v) > hi):
            raise Invalid(
                f"{path}: must contain {lo} to {hi if hi is not None else 'any number of'} items",
                path,
                "too_small" if len(v) < lo else "too_big",
            )
        for i, x in enumerate(v):
            item(x, f"{path}[{i}]", ctx)

    return check


def _either(*checks: Check) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        errors: list[Invalid] = []
        for c in checks:
            try:
                return c(v, path, ctx)
            except Invalid as exc:
                errors.append(exc)
        # The branch that got furthest into the value is the one the caller meant (the API's zod does the same).
        deepest = max(len(e.path) for e in errors)
        if [len(e.path) for e in errors].count(deepest) == 1:
            raise next(e for e in errors if len(e.path) == deepest)
        raise Invalid(" / ".join(map(str, errors)), path, "invalid_union")

    return check


def _uri(family: str) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        _str()(v, path, ctx)
        ctx.assets[path] = resolve_uri(v, family, path, ctx.uploads)

    return check


def _typed_asset(*types: str) -> Check:
    def check(v: Any, path: str, ctx: Ctx) -> None:
        _obj({"type": _req(_lit(*types)), "uri": _req(_str())})(v, path, ctx)
        _uri(v["type"])(v["uri"], f"{path}.uri", ctx)

    return check


def _tag(v: Any, path: str, ctx: Ctx) -> None:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{2,15}", v):
        raise Invalid(
            f"{path}: a tag is 3-16 letters, digits or _, starting with a letter", path, "invalid_string"
        )


def _ratio_str(v: Any, path: str, ctx: Ctx) -> None:
    if not isinstance(v, str) or not re.fullmatch(r"[1-9]\d{1,4}:[1-9]\d{1,4}", v):
        raise Invalid(f"{path}: expected a ratio like '1280:720', got {v!r}", path, "invalid_string")


# ---------------------------------------------------------------- the bodies, per endpoint and model

_PROMPT = _str(1000)
_SEED = _opt(_num(0, 4294967295, integer=True))
_MODERATION = _opt(_obj({"publicFigureThreshold": _opt(_lit("auto", "low"))}))
_I2V_RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
_VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
_ALEPH_RATIOS = (*_I2V_RATIOS, "848:480", "640:480")
_IMAGE_RATIOS = (
    "1024:1024", "1080:1080", "1168:880", "1360:768", "1440:1080", "1080:1440", "1808:768", "1920:1080",
    "1080:1920", "2112:912", "1280:720", "720:1280", "720:720", "960:720", "720:960", "1680:720",
)  # fmt: skip
PRESETS = (  # noqa: SIM905
    "Maya Arjun Serene Bernard Billy Mark Clint Mabel Chad Leslie Eleanor Elias Elliot Grungle Brodie Sandra Kirk "
    "Kylie Lara Lisa Malachi Marlene Martin Miriam Monster Paula Pip Rusty Ragnar Xylar Maggie Jack Katie Noah "
    "James Rina Ella Mariah Frank Claudia Niki Vincent Kendrick Myrna Tom Wanda Benjamin Kiana Rachel"
).split()
LANGS = "en hi pt zh es fr de ja ar ru ko id it nl tr pl sv fil ms ro uk el cs da fi bg hr sk ta".split()  # noqa: SIM905


def _prompt_image(*positions: str) -> Check:
    item = _obj({"uri": _req(_uri("image")), "position": _req(_lit(*positions))})
    return _either(_uri("image"), _list(item, 1, len(positions)))


def _video_gen(
    ratios: tuple[str, ...], durations: Check, veo: bool, image: str | None, prompt_required: bool
) -> Check:
    f: dict[str, Field] = {"promptText": (prompt_required, _PROMPT), "ratio": _req(_lit(*ratios))}
    f["duration"] = _req(durations)
    f["seed"] = _SEED
    if image:
        f["promptImage"] = _req(_prompt_image("first", "last") if veo else _prompt_image("first"))
    if veo:
        f["audio"] = _opt(_bool)
    else:
        f["contentModeration"] = _MODERATION
    return _obj(f)


_KEYFRAME_RANGE = _opt(
    _obj({"start_seconds": _req(_num(0, integer=True)), "end_seconds": _req(_num(0, integer=True))})
)
_SPECS: dict[tuple[str, str], Check] = {
    ("text_to_video", "gen4.5"): _video_gen(("1280:720", "720:1280"), _num(2, 10, True), False, None, True),
    ("text_to_video", "veo3.1"): _video_gen(_VEO_RATIOS, _lit(4, 6, 8), True, None, True),
    ("text_to_video", "veo3.1_fast"): _video_gen(_VEO_RATIOS, _lit(4, 6, 8), True, None, True),
    ("image_to_video", "gen4.5"): _video_gen(_I2V_RATIOS, _num(2, 10, True), False, "image", True),
    ("image_to_video", "gen4_turbo"): _video_gen(_I2V_RATIOS, _num(2, 10, True), False, "image", False),
    ("image_to_video", "veo3.1"): _video_gen(_VEO_RATIOS, _lit(4, 6, 8), True, "image", False),
    ("image_to_video", "veo3.1_fast"): _video_gen(_VEO_RATIOS, _lit(4, 6, 8), True, "image", False),
    ("video_to_video", "gen4_aleph"): _obj({
        "videoUri": _req(_uri("video")), "promptText": _req(_PROMPT), "ratio": _opt(_lit(*_ALEPH_RATIOS)),
        "seed": _SEED, "contentModeration": _MODERATION,
        "references": _opt(_list(_obj({"type": _req(_lit("image")), "uri": _req(_uri("image"))}))),
    }),
    ("video_to_video", "aleph2"): _obj({
        "videoUri": _req(_uri("video")), "promptText": _opt(_PROMPT), "ratio": _opt(_ratio_str), "seed": _SEED,
        "contentModeration": _MODERATION,
        "keyframes": _opt(_list(_either(
            _obj({"seconds": _req(_num(0)), "uri": _req(_uri("image")), "range": _KEYFRAME_RANGE}),
            _obj({"at": _req(_num(0, 1)), "uri": _req(_uri("image")), "range": _KEYFRAME_RANGE}),
        ), 0, 5)),
    }),
    ("character_performance", "act_two"): _obj({
        "character": _req(_typed_asset("image", "video")), "reference": _req(_typed_asset("video")),
        "ratio": _opt(_lit(*_I2V_RATIOS)), "seed": _SEED, "bodyControl": _opt(_bool),
        "expressionIntensity": _opt(_num(1, 5, integer=True)), "contentModeration": _MODERATION,
    }),
    ("text_to_image", "gen4_image"): _obj({
        "promptText": _req(_PROMPT), "ratio": _req(_lit(*_IMAGE_RATIOS)), "seed": _SEED,
        "referenceImages": _opt(_list(_obj({"uri": _req(_uri("image")), "tag": _opt(_tag)}), 0, 3)),
        "contentModeration": _MODERATION,
    }),
    ("text_to_image", "gen4_image_turbo"): _obj({
        "promptText": _req(_PROMPT), "ratio": _req(_lit(*_IMAGE_RATIOS)), "seed": _SEED,
        "referenceImages": _req(_list(_obj({"uri": _req(_uri("image")), "tag": _opt(_tag)}), 1, 3)),
        "contentModeration": _MODERATION,
    }),
    ("text_to_speech", "eleven_multilingual_v2"): _obj({
        "promptText": _req(_PROMPT),
        "voice": _req(_obj({"type": _req(_lit("runway-preset")), "presetId": _req(_lit(*PRESETS))})),
    }),
    ("sound_effect", "eleven_text_to_sound_v2"): _obj(
        {"promptText": _req(_PROMPT), "duration": _opt(_num(0.5, 30)), "loop": _opt(_bool)}
    ),
    ("voice_dubbing", "eleven_voice_dubbing"): _obj({
        "audioUri": _req(_uri("audio")), "targetLang": _req(_lit(*LANGS)), "disableVoiceCloning": _opt(_bool),
        "dropBackgroundAudio": _opt(_bool), "numSpeakers": _opt(_num(1, 32, integer=True)),
    }),
}  # fmt: skip
_UPLOAD = _obj({"filename": _req(_str(255)), "type": _req(_lit("ephemeral"))})


def check_create(endpoint: str, body: Any, ctx: Ctx) -> str:
    """Check a generation request to `endpoint` (a key of ENDPOINT_MODELS); return its model.

    Input assets land in ``ctx.assets``; raises Invalid.
    """
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(body, dict):
        raise Invalid("body: Expected object", "", "invalid_type")
    if model not in ENDPOINT_MODELS[endpoint]:
        raise Invalid(
            f"model: Invalid value {model!r}, expected one of {', '.join(ENDPOINT_MODELS[endpoint])}",
            "model",
            "invalid_enum_value",
        )
    _SPECS[(endpoint, model)]({k: v for k, v in body.items() if k != "model"}, "", ctx)
    return str(model)


def check_upload(body: Any) -> None:
    """Check a ``POST /v1/uploads`` body; raises Invalid."""
    _UPLOAD(body, "", Ctx({}))
