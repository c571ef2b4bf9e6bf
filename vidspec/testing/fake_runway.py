"""A fake Runway API: a real HTTP server on 127.0.0.1 for tests and benchmarks.

In process:  ``with FakeRunway(latency=0.3) as fake: ... fake.url ...``
As a process: ``python -m vidspec.testing.fake_runway --port 0 --latency 0.5 --ready-file F``
(prints its URL on line 1; faults and stats through ``/_admin/*``, see :class:`FakeRunwayProcess`).

Prices here are deliberately the fake's own table, independent of ``vidspec.pricing``, so tests cross-check it.
The server never prints or logs the Authorization header; ``raw_log`` keeps it redacted.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import mimetypes
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from vidspec.testing.fake_media import MediaCache, media_duration, scaled_size, wav_duration

API_VERSION = "2024-11-06"
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
FAULT_KINDS = (
    "http_401", "http_429", "http_500", "http_503", "drop_connection",
    "timeout_after_create", "task_failed", "expired_output", "task_gone",
)  # fmt: skip
_ENTRY_FAULTS = ("drop_connection", "http_401", "http_429", "http_500", "http_503")
_OVER = ("SUCCEEDED", "FAILED", "CANCELLED")

# ---------------------------------------------------------------- request validation (SDK 5.24 shapes)


class Invalid(Exception):
    """A 400: the message names the offending field."""


@dataclass
class Asset:
    uri: str
    family: str  # image | video | audio
    data: bytes | None  # decoded bytes for data: and runway:// URIs, None for https
    suffix: str


Check = Callable[[Any, str, "_Ctx"], None]
Field = tuple[bool, Check]


class _Ctx:
    def __init__(self, fake: FakeRunway) -> None:
        self.fake = fake
        self.assets: dict[str, Asset] = {}


def _req(c: Check) -> Field:
    return (True, c)


def _opt(c: Check) -> Field:
    return (False, c)


def _where(path: str) -> str:
    return path or "body"


def _str(max_units: int | None = None) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, str):
            raise Invalid(f"{path}: Expected string, received {type(v).__name__}")
        if not v.strip():
            raise Invalid(f"{path}: must be a non-empty string")
        if max_units is not None and len(v.encode("utf-16-le")) // 2 > max_units:
            raise Invalid(f"{path}: must be at most {max_units} characters (UTF-16 code units)")

    return check


def _lit(*values: Any) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if (
            isinstance(v, bool)
            or v not in values
            or type(v) is not type(values[0])
            and not _same_num(v, values)
        ):
            raise Invalid(f"{path}: Invalid value {v!r}, expected one of {', '.join(map(repr, values))}")

    return check


def _same_num(v: Any, values: tuple[Any, ...]) -> bool:
    return isinstance(v, float) and v.is_integer() and isinstance(values[0], int)


def _num(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if ok and integer:
            ok = isinstance(v, int) or float(v).is_integer()
        if not ok:
            raise Invalid(f"{path}: Expected {'integer' if integer else 'number'}, received {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Invalid(f"{path}: must be between {lo} and {hi}, got {v}")

    return check


def _bool(v: Any, path: str, ctx: _Ctx) -> None:
    if not isinstance(v, bool):
        raise Invalid(f"{path}: Expected boolean, received {v!r}")


def _obj(fields: Mapping[str, Field]) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, dict):
            raise Invalid(f"{_where(path)}: Expected object, received {type(v).__name__}")
        unknown = [k for k in v if k not in fields]
        if unknown:
            raise Invalid(
                f"Unrecognized key(s) in object{' ' + path if path else ''}: {', '.join(map(repr, unknown))}"
            )
        for name, (required, sub) in fields.items():
            sub_path = f"{path}.{name}" if path else name
            if name in v:
                sub(v[name], sub_path, ctx)
            elif required:
                raise Invalid(f"{sub_path}: Required")

    return check


def _list(item: Check, lo: int = 0, hi: int | None = None) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, list):
            raise Invalid(f"{path}: Expected array, received {type(v).__name__}")
        if len(v) < lo or (hi is not None and len(v) > hi):
            raise Invalid(f"{path}: must contain {lo} to {hi if hi is not None else 'any number of'} items")
        for i, x in enumerate(v):
            item(x, f"{path}[{i}]", ctx)

    return check


def _either(*checks: Check) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        errors = []
        for c in checks:
            try:
                return c(v, path, ctx)
            except Invalid as exc:
                errors.append(str(exc))
        raise Invalid(" / ".join(errors))

    return check


def _uri(family: str) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        _str()(v, path, ctx)
        ctx.assets[path] = ctx.fake._resolve_uri(v, family, path)

    return check


def _typed_asset(*types: str) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        _obj({"type": _req(_lit(*types)), "uri": _req(_str())})(v, path, ctx)
        _uri(v["type"])(v["uri"], f"{path}.uri", ctx)

    return check


def _tag(v: Any, path: str, ctx: _Ctx) -> None:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{2,15}", v):
        raise Invalid(f"{path}: a tag is 3-16 letters, digits or _, starting with a letter")


def _ratio_str(v: Any, path: str, ctx: _Ctx) -> None:
    if not isinstance(v, str) or not re.fullmatch(r"[1-9]\d{1,4}:[1-9]\d{1,4}", v):
        raise Invalid(f"{path}: expected a ratio like '1280:720', got {v!r}")


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
    ("image_to_video", "gen4_turbo"): _video_gen(_I2V_RATIOS, _lit(5, 10), False, "image", False),
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

# ---------------------------------------------------------------- the fake's own price table


def fake_credits(endpoint: str, model: str, body: Mapping[str, Any], seconds: float) -> int:
    """Credits for one task. `seconds` is the output (or input video / audio) length."""

    def up(x: float) -> int:
        return max(0, math.ceil(x - 1e-9))

    per_second = {"gen4.5": 12, "gen4_turbo": 5, "gen4_aleph": 15, "aleph2": 28, "act_two": 5}
    if model in per_second:
        return up(per_second[model] * seconds)
    if model in ("veo3.1", "veo3.1_fast"):
        rate = {True: 40, False: 20} if model == "veo3.1" else {True: 15, False: 10}
        return up(rate[bool(body.get("audio", True))] * seconds)
    if model == "gen4_image":
        return 5 if min(int(x) for x in str(body["ratio"]).split(":")) == 720 else 8
    if model == "gen4_image_turbo":
        return 2
    if model == "eleven_multilingual_v2":
        return up(len(str(body["promptText"])) / 50)
    if model == "eleven_text_to_sound_v2":
        return up(float(body.get("duration", 5)) / 6)
    if model == "eleven_voice_dubbing":
        return up(seconds / 2)
    raise ValueError(f"no price for {model}")


# ---------------------------------------------------------------- server state


@dataclass
class RequestRecord:
    method: str
    path: str
    json: Any
    headers: dict[str, str]  # without Authorization
    auth_present: bool
    time: float


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: str | None = None
    method: str | None = None
    model: str | None = None
    task_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def matches(self, path: str, method: str, model: str | None, task_id: str | None) -> bool:
        if self.fired >= self.times:
            return False
        if self.path and not (path == self.path or path.startswith(self.path.rstrip("/") + "/")):
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.model and self.model != model:
            return False
        return not (self.task_id and self.task_id != task_id)


@dataclass
class Task:
    id: str
    endpoint: str
    model: str
    body: dict[str, Any]
    created: float  # monotonic
    created_at: str
    latency: float
    pending: float
    credits: int
    kind: str  # video | image | audio
    width: int
    height: int
    seconds: float
    audio: bool
    fail_code: str | None = None
    fail_text: str = ""
    fail_charged: bool = False
    started: float | None = None
    ends: float | None = None
    cancelled: float | None = None
    deleted: bool = False
    gone: bool = False


@dataclass
class _Resp:
    status: int
    body: Any = None  # dict -> JSON, bytes -> raw
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    drop: bool = False
    delay: float = 0.0


def _err(status: int, message: str, **headers: str) -> _Resp:
    return _Resp(status, {"error": message}, headers)


class FakeRunway:
    """The fake API. All public methods are thread-safe.

    latency: seconds from create to over, per task (or a function of (endpoint, model)); the first
    ``pending_fraction`` of it is PENDING, the rest RUNNING. A task waits THROTTLED while its model is at
    ``concurrency``. valid_keys=None accepts any non-empty Bearer key.
    """

    def __init__(
        self,
        latency: float | Callable[[str, str], float] = 0.3,
        *,
        pending_fraction: float = 0.2,
        valid_keys: set[str] | None = None,
        credit_balance: int = 100_000,
        concurrency: int | Mapping[str, int | None] = 2,
        daily_limit: int | None = None,
        max_monthly_credit_spend: int = 1_000_000,
        output_scale: float = 0.25,
        url_ttl: float = 3600.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.pending_fraction = pending_fraction
        self.valid_keys = valid_keys
        self.output_scale = output_scale
        self.url_ttl = url_ttl
        self.host, self.port = host, port
        self.url = ""
        self._lock = threading.RLock()
        self._concurrency: dict[str, int | None] = {m: 2 for m in ALL_MODELS}
        self._daily: dict[str, int | None] = {m: daily_limit for m in ALL_MODELS}
        self._monthly = max_monthly_credit_spend
        self._balance_base = 0
        self.tasks: dict[str, Task] = {}
        self.set_org(credit_balance=credit_balance, concurrency=concurrency)
        self._uploads: dict[str, dict[str, Any]] = {}
        self._urls: dict[str, tuple[str, float]] = {}
        self._durations: dict[bytes, tuple[float, int | None, int | None] | None] = {}
        self.faults: list[Fault] = []
        self.media = MediaCache()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset_counters()

    # -- lifecycle
    def start(self) -> FakeRunway:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.media.close()

    def __enter__(self) -> FakeRunway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration
    def set_org(
        self,
        credit_balance: int | None = None,
        concurrency: int | Mapping[str, int | None] | None = None,
        daily_limit: int | Mapping[str, int | None] | None = None,
        max_monthly_credit_spend: int | None = None,
    ) -> None:
        """concurrency / daily_limit: one int for every model, or {model: n or None (no limit)}."""
        with self._lock:
            if credit_balance is not None:
                self._balance_base = credit_balance + self._spent()
            for table, value in ((self._concurrency, concurrency), (self._daily, daily_limit)):
                if isinstance(value, int):
                    table.update(dict.fromkeys(ALL_MODELS, value))
                elif value is not None:
                    table.update(value)
            if max_monthly_credit_spend is not None:
                self._monthly = max_monthly_credit_spend

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        model: str | None = None,
        task_id: str | None = None,
        **params: Any,
    ) -> Fault:
        """Arm a fault; see FAULT_KINDS. Params: retry_after (http_429/503), delay and then="drop"|"respond"
        (timeout_after_create), code, failure, charged (task_failed)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        fault = Fault(kind, times, path, method, model, task_id, dict(params))
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def reset_counters(self) -> None:
        with self._lock:
            self._requests: list[RequestRecord] = []
            self._creates: list[tuple[str, dict[str, Any], str]] = []
            self._raw = bytearray()
            self.downloads = 0
            self.download_attempts = 0
            self.polls = 0
            self.task_polls: dict[str, int] = {}

    # -- accounting
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def creates(self) -> list[tuple[str, dict[str, Any], str]]:
        with self._lock:
            return list(self._creates)

    @property
    def raw_log(self) -> bytes:
        with self._lock:
            return bytes(self._raw)

    def create_count(self, endpoint: str | None = None) -> int:
        ep = endpoint.removeprefix("/v1/") if endpoint else None
        with self._lock:
            return sum(1 for e, _, _ in self._creates if ep is None or e == ep)

    def credit_balance(self) -> int:
        with self._lock:
            return self._balance_base - self._spent()

    def task_status(self, task_id: str) -> str:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            return self._status(self.tasks[task_id], now)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            return {
                "requests": len(self._requests),
                "request_log": [
                    {"method": r.method, "path": r.path, "auth_present": r.auth_present}
                    for r in self._requests
                ],
                "creates": [{"endpoint": e, "body": b, "task_id": t} for e, b, t in self._creates],
                "create_count": self.create_count(),
                "downloads": self.downloads,
                "download_attempts": self.download_attempts,
                "polls": self.polls,
                "task_polls": dict(self.task_polls),
                "tasks": {
                    t.id: {
                        "status": self._status(t, now),
                        "endpoint": t.endpoint,
                        "model": t.model,
                        "credits": t.credits,
                        "cost": self._cost(t, now),
                    }
                    for t in self.tasks.values()
                },  # fmt: skip
                "faults": [
                    {"kind": f.kind, "times": f.times, "fired": f.fired, "path": f.path} for f in self.faults
                ],
                "credit_balance": self.credit_balance(),
                "renders": self.media.renders,
            }

    # -- task clock
    def _advance(self, now: float) -> None:
        """Admit waiting tasks, FIFO per model, at the exact time a concurrency slot was free."""
        waiting = sorted(
            (t for t in self.tasks.values() if t.started is None and t.cancelled is None and not t.deleted),
            key=lambda t: t.created,
        )
        for model in {t.model for t in waiting}:
            limit = self._concurrency.get(model)
            spans = [
                (t.started, t.ends) for t in self.tasks.values() if t.model == model and t.started is not None
            ]
            for t in (w for w in waiting if w.model == model):
                eligible = t.created + t.pending
                start: float | None = eligible
                if limit is not None:
                    cands = sorted({eligible} | {e for _, e in spans if e is not None and e > eligible})
                    start = next(
                        (c for c in cands if sum(1 for s, e in spans if s <= c < (e or 0)) < limit), None
                    )
                if start is None or start > now:
                    break
                t.started, t.ends = start, start + (t.latency - t.pending)
                spans.append((t.started, t.ends))

    def _status(self, t: Task, now: float) -> str:
        if t.cancelled is not None:
            return "CANCELLED"
        if t.started is None or t.ends is None:
            return "PENDING" if now < t.created + t.pending else "THROTTLED"
        if now < t.ends:
            return "RUNNING"
        return "FAILED" if t.fail_code else "SUCCEEDED"

    def _cost(self, t: Task, now: float) -> int:
        status = self._status(t, now)
        if status == "CANCELLED" or (status == "FAILED" and not t.fail_charged):
            return 0
        return t.credits

    def _spent(self) -> int:
        now = time.monotonic()
        return sum(self._cost(t, now) for t in self.tasks.values())

    # -- inputs
    def _resolve_uri(self, uri: str, family: str, path: str) -> Asset:
        if uri.startswith("https://"):
            if not urlsplit(uri).netloc:
                raise Invalid(f"{path}: invalid URL")
            return Asset(uri, family, None, Path(urlsplit(uri).path).suffix or ".bin")
        if uri.startswith("runway://"):
            up = self._uploads.get(uri)
            if up is None or up.get("data") is None:
                raise Invalid(f"{path}: unknown or incomplete upload {uri}")
            if up["family"] != family:
                raise Invalid(f"{path}: expected an {family} upload, got a {up['family']} file")
            return Asset(uri, family, up["data"], Path(up["filename"]).suffix)
        if uri.startswith("data:"):
            m = re.fullmatch(r"data:([\w.+-]+)/([\w.+-]+)((?:;[^,;]*)*);base64,(.*)", uri, re.S)
            if not m:
                raise Invalid(f"{path}: malformed data URI (expected data:<mime>;base64,...)")
            if m.group(1) != family:
                raise Invalid(f"{path}: expected a data URI of {family}/*, got {m.group(1)}/{m.group(2)}")
            if len(m.group(4)) > DATA_URI_MAX * 4 // 3 + 8:
                raise Invalid(f"{path}: data URI larger than 5 MB")
            try:
                data = base64.b64decode(m.group(4), validate=True)
            except (binascii.Error, ValueError):
                raise Invalid(f"{path}: invalid base64 in data URI") from None
            if len(data) > DATA_URI_MAX:
                raise Invalid(f"{path}: data URI larger than 5 MB")
            ext = mimetypes.guess_extension(f"{m.group(1)}/{m.group(2)}") or ".bin"
            return Asset(uri, family, data, ext)
        raise Invalid(f"{path}: must be an HTTPS URL, a runway:// upload URI or a base64 data URI")

    def _probe(self, asset: Asset | None) -> tuple[float, int | None, int | None] | None:
        if asset is None or asset.data is None:
            return None
        key = asset.data[:65536] + len(asset.data).to_bytes(8, "big")
        if key not in self._durations:
            self._durations[key] = media_duration(asset.data, asset.suffix)
        return self._durations[key]

    def _output_plan(
        self, endpoint: str, model: str, body: dict[str, Any], ctx: _Ctx
    ) -> tuple[str, int, int, float, bool]:
        def size(ratio: str | None, default: str = "1280:720") -> tuple[int, int]:
            return scaled_size(ratio or default, self.output_scale)

        if endpoint in ("text_to_video", "image_to_video"):
            audio = model.startswith("veo") and bool(body.get("audio", True))
            return ("video", *size(body["ratio"]), float(body["duration"]), audio)
        if endpoint == "video_to_video":
            info = self._probe(ctx.assets.get("videoUri"))
            seconds = info[0] if info else 5.0
            if body.get("ratio"):
                w, h = size(body["ratio"])
            elif info and info[1] and info[2]:
                w, h = info[1] // 2 * 2, info[2] // 2 * 2
            else:
                w, h = size(None)
            return ("video", w, h, seconds, False)
        if endpoint == "character_performance":
            info = self._probe(ctx.assets.get("reference.uri"))
            seconds = info[0] if info else 5.0
            if not 3.0 - 0.05 <= seconds <= 30.0 + 0.05:
                raise Invalid(
                    f"reference.uri: the reference performance must last 3-30 s, got {seconds:.2f} s"
                )
            return ("video", *size(body.get("ratio")), seconds, False)
        if endpoint == "text_to_image":
            return ("image", *size(body["ratio"]), 0.0, False)
        if endpoint == "text_to_speech":
            return ("audio", 0, 0, max(1.0, len(str(body["promptText"]).split()) / 2.5), False)
        if endpoint == "sound_effect":
            return ("audio", 0, 0, float(body.get("duration", 5)), False)
        asset = ctx.assets.get("audioUri")
        seconds = (wav_duration(asset.data) if asset and asset.data else None) or 3.0
        return ("audio", 0, 0, seconds, False)

    # -- request handling
    def _take(self, kinds: tuple[str, ...], path: str, method: str, model: str | None = None,
              task_id: str | None = None) -> Fault | None:  # fmt: skip
        for f in self.faults:
            if f.kind in kinds and f.matches(path, method, model, task_id):
                f.fired += 1
                return f
        return None

    def _record(self, method: str, target: str, headers: Message, body: bytes) -> None:
        auth = headers.get("Authorization")
        raw = [f"{method} {target} HTTP/1.1"]
        raw += [f"{k}: {'[REDACTED]' if k.lower() == 'authorization' else v}" for k, v in headers.items()]
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        kept = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        rec = RequestRecord(method, urlsplit(target).path, parsed, kept, auth is not None, time.time())
        with self._lock:
            self._requests.append(rec)
            self._raw += ("\r\n".join(raw) + "\r\n\r\n").encode("latin-1", "replace") + body + b"\r\n"

    def dispatch(self, method: str, target: str, headers: Message, body: bytes) -> _Resp:
        path = urlsplit(target).path
        if path.startswith("/_admin/"):
            return self._admin(method, path, body)
        self._record(method, target, headers, body)
        with self._lock:
            fault = self._take(_ENTRY_FAULTS, path, method)
        if fault is not None:
            if fault.kind == "drop_connection":
                return _Resp(0, drop=True)
            status = int(fault.kind.removeprefix("http_"))
            extra = {"Retry-After": str(fault.params["retry_after"])} if "retry_after" in fault.params else {}
            return _err(status, fault.params.get("message", f"injected HTTP {status}"), **extra)
        if path.startswith("/_uploads/") and method == "POST":
            return self._receive_upload(path.rsplit("/", 1)[-1], headers, body)
        if path.startswith("/outputs/") and method == "GET":
            return self._download(path)
        if not path.startswith("/v1/"):
            return _err(404, f"not found: {path}")
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _err(401, "missing or malformed Authorization header (expected 'Bearer <key>')")
        if self.valid_keys is not None and auth[7:].strip() not in self.valid_keys:
            return _err(401, "invalid API key")
        if headers.get("X-Runway-Version") != API_VERSION:
            return _err(400, f"X-Runway-Version header must be {API_VERSION!r}")
        route = path[len("/v1/") :]
        if route in ENDPOINT_MODELS or route in ("uploads", "organization"):
            expected = "GET" if route == "organization" else "POST"
            if method != expected:
                return _err(405, f"method {method} not allowed on {path}")
            if route == "organization":
                return self._organization()
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                return _err(400, "request body is not valid JSON")
            return self._create_upload(payload) if route == "uploads" else self._create(route, payload)
        if route.startswith("tasks/") and route.count("/") == 1:
            if method == "GET":
                return self._get_task(route[6:])
            if method == "DELETE":
                return self._delete_task(route[6:])
            return _err(405, f"method {method} not allowed on {path}")
        return _err(404, f"not found: {path}")

    def _create(self, endpoint: str, body: Any) -> _Resp:
        ctx = _Ctx(self)
        model = body.get("model") if isinstance(body, dict) else None
        try:
            if not isinstance(body, dict):
                raise Invalid("body: Expected object")
            if model not in ENDPOINT_MODELS[endpoint]:
                raise Invalid(
                    f"model: Invalid value {model!r}, expected one of {', '.join(ENDPOINT_MODELS[endpoint])}"
                )
            _SPECS[(endpoint, model)]({k: v for k, v in body.items() if k != "model"}, "", ctx)
            kind, w, h, seconds, audio = self._output_plan(endpoint, model, body, ctx)
        except Invalid as exc:
            return _Resp(
                400, {"error": f"Validation of body failed: {exc}", "issues": [{"message": str(exc)}]}
            )
        credits = fake_credits(endpoint, model, body, seconds)
        path = f"/v1/{endpoint}"
        with self._lock:
            limit = self._daily.get(model)
            if limit is not None and sum(1 for t in self.tasks.values() if t.model == model) >= limit:
                return _err(429, f"daily generation limit of {limit} reached for {model}")
            if credits > self.credit_balance():
                return _err(400, "You do not have enough credits to run this task.")
            tid = str(uuid.uuid4())
            created_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            lat = float(self.latency(endpoint, model) if callable(self.latency) else self.latency)
            task = Task(tid, endpoint, model, body, time.monotonic(), created_at, lat, lat * self.pending_fraction,
                        credits, kind, w, h, seconds, audio)  # fmt: skip
            fail = self._take(("task_failed",), path, "POST", model)
            if fail is not None:
                task.fail_code = str(fail.params.get("code", "INTERNAL.BAD_OUTPUT"))
                task.fail_text = str(fail.params.get("failure", f"Injected failure ({task.fail_code})."))
                task.fail_charged = bool(
                    fail.params.get("charged", task.fail_code.startswith("SAFETY.INPUT"))
                )
            self.tasks[tid] = task
            self._creates.append((endpoint, body, tid))
            hold = self._take(("timeout_after_create",), path, "POST", model)
        if fail is None:
            self.media.submit(kind, w, h, seconds, audio)  # render in the background while the task "runs"
        if hold is not None:
            respond = hold.params.get("then", "drop") == "respond"
            return _Resp(200, {"id": tid}, drop=not respond, delay=float(hold.params.get("delay", 0.0)))
        return _Resp(200, {"id": tid})

    def _create_upload(self, body: Any) -> _Resp:
        try:
            _obj({"filename": _req(_str(255)), "type": _req(_lit("ephemeral"))})(body, "", _Ctx(self))
        except Invalid as exc:
            return _Resp(400, {"error": f"Validation of body failed: {exc}"})
        mime = mimetypes.guess_type(body["filename"])[0] or ""
        family = mime.split("/")[0]
        if family not in ("image", "video", "audio"):
            return _err(400, f"filename: unsupported media type for {body['filename']!r}")
        uid = uuid.uuid4().hex
        fields = {"key": f"uploads/{uid}/{body['filename']}", "policy": secrets.token_urlsafe(24)}
        with self._lock:
            self._uploads[f"runway://uploads/{uid}"] = {"filename": body["filename"], "family": family,
                                                       "fields": fields, "data": None}  # fmt: skip
        return _Resp(
            200,
            {
                "uploadUrl": f"{self.url}/_uploads/{uid}",
                "fields": fields,
                "runwayUri": f"runway://uploads/{uid}",
            },
        )

    def _receive_upload(self, uid: str, headers: Message, body: bytes) -> _Resp:
        up = self._uploads.get(f"runway://uploads/{uid}")
        if up is None:
            return _err(404, "no such upload")
        ctype = headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return _err(400, "expected multipart/form-data")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        parts: dict[str, bytes] = {}
        for part in cast(EmailMessage, msg).iter_parts():
            payload = part.get_payload(decode=True)
            parts[str(part.get_param("name", header="content-disposition"))] = (
                payload if isinstance(payload, bytes) else b""
            )
        for k, v in up["fields"].items():
            if parts.get(k, b"").decode("utf-8", "replace") != v:
                return _err(403, f"upload form field {k!r} missing or wrong")
        if "file" not in parts:
            return _err(400, "upload form has no 'file' part")
        with self._lock:
            up["data"] = parts["file"]
        return _Resp(204)

    def _organization(self) -> _Resp:
        with self._lock:
            tier = {m: {"maxConcurrentGenerations": self._concurrency.get(m), "maxDailyGenerations": self._daily.get(m)}
                    for m in ALL_MODELS}  # fmt: skip
            usage = {
                m: {"dailyGenerations": sum(1 for t in self.tasks.values() if t.model == m)}
                for m in ALL_MODELS
            }
            return _Resp(200, {"creditBalance": self.credit_balance(),
                               "tier": {"maxMonthlyCreditSpend": self._monthly, "models": tier},
                               "usage": {"models": usage}})  # fmt: skip

    def _get_task(self, tid: str) -> _Resp:
        with self._lock:
            self.polls += 1
            self.task_polls[tid] = self.task_polls.get(tid, 0) + 1
            t = self.tasks.get(tid)
            if (
                t is not None
                and not t.gone
                and self._take(("task_gone",), f"/v1/tasks/{tid}", "GET", t.model, tid)
            ):
                t.gone = True
            if t is None or t.deleted or t.gone:
                return _err(404, "Task not found")
            now = time.monotonic()
            self._advance(now)
            status = self._status(t, now)
            out: dict[str, Any] = {"id": t.id, "status": status, "createdAt": t.created_at}
            if status in _OVER:
                out["cost"] = {"credits": self._cost(t, now)}
            else:
                out["estimatedCost"] = {"credits": t.credits}
            if status == "RUNNING" and t.started is not None:
                out["progress"] = round(min(1.0, (now - t.started) / max(1e-9, t.latency - t.pending)), 3)
            elif status == "SUCCEEDED":
                token = secrets.token_urlsafe(16)
                self._urls[token] = (t.id, now + self.url_ttl)
                ext = {"video": "mp4", "image": "png", "audio": "wav"}[t.kind]
                out["output"] = [f"{self.url}/outputs/{token}/{t.id}.{ext}"]
            elif status == "FAILED":
                out["failure"], out["failureCode"] = t.fail_text, t.fail_code
            return _Resp(200, out)

    def _delete_task(self, tid: str) -> _Resp:
        with self._lock:
            t = self.tasks.get(tid)
            if t is None or t.deleted or t.gone:
                return _err(404, "Task not found")
            now = time.monotonic()
            self._advance(now)
            if self._status(t, now) in _OVER:
                t.deleted = True
            else:
                t.cancelled = now
                if t.ends is not None:
                    t.ends = now  # frees the concurrency slot
            return _Resp(204)

    def _download(self, path: str) -> _Resp:
        parts = path.split("/")
        with self._lock:
            self.download_attempts += 1
            entry = self._urls.get(parts[2]) if len(parts) == 4 else None
            if entry is None:
                return _err(404, "no such output")
            if time.monotonic() > entry[1] or self._take(("expired_output",), path, "GET"):
                return _Resp(403, b"Request has expired", content_type="text/plain")
            t = self.tasks[entry[0]]
        data = self.media.get(t.kind, t.width, t.height, t.seconds, t.audio).read_bytes()
        with self._lock:
            self.downloads += 1
        ctype = {"video": "video/mp4", "image": "image/png", "audio": "audio/wav"}[t.kind]
        return _Resp(200, data, content_type=ctype)

    def _admin(self, method: str, path: str, body: bytes) -> _Resp:
        try:
            args = json.loads(body) if body else {}
            if path == "/_admin/stats" and method == "GET":
                return _Resp(200, self.stats())
            if path == "/_admin/raw_log" and method == "GET":
                return _Resp(200, self.raw_log, content_type="application/octet-stream")
            if path == "/_admin/inject" and method == "POST":
                kind = args.pop("kind", None) or args.pop("fault")
                self.inject(kind, **args)
                return _Resp(200, {"ok": True})
            if path == "/_admin/set_org" and method == "POST":
                self.set_org(**args)
                return _Resp(200, {"ok": True})
            if path == "/_admin/config" and method == "POST":
                for k in ("latency", "url_ttl", "output_scale", "pending_fraction"):
                    if k in args:
                        setattr(self, k, float(args[k]))
                return _Resp(200, {"ok": True})
            if path in ("/_admin/reset", "/_admin/clear_faults") and method == "POST":
                self.reset_counters() if path.endswith("reset") else self.clear_faults()
                return _Resp(200, {"ok": True})
        except (ValueError, TypeError, KeyError) as exc:
            return _err(400, f"bad admin request: {exc}")
        return _err(404, f"no admin route {method} {path}")


# ---------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    fake: FakeRunway

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients that hang up are expected
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(
        self, format: str, *args: Any
    ) -> None:  # never log (the Authorization header stays private)
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            resp = self.server.fake.dispatch(method, self.path, self.headers, body)
        except Exception as exc:  # a bug in the fake must not look like a hang
            resp = _err(500, f"fake server error: {type(exc).__name__}: {exc}")
        if resp.delay:
            time.sleep(resp.delay)
        if resp.drop:
            self.close_connection = True
            return
        data = (
            b""
            if resp.body is None
            else resp.body
            if isinstance(resp.body, bytes)
            else json.dumps(resp.body).encode()
        )
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.status != 204:
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if resp.status != 204:
            self.wfile.write(data)


# ---------------------------------------------------------------- subprocess mode


class FakeRunwayProcess:
    """Runs the fake in a child process (so a build can be SIGKILLed and restarted against the same state)."""

    def __init__(
        self, *args: str, latency: float = 0.3, ready_file: Path | None = None, timeout: float = 20.0
    ) -> None:
        import httpx

        cmd = [
            sys.executable,
            "-m",
            "vidspec.testing.fake_runway",
            "--port",
            "0",
            "--latency",
            str(latency),
            *args,
        ]
        if ready_file is not None:
            cmd += ["--ready-file", str(ready_file)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.proc.kill()
            raise RuntimeError(f"fake runway did not start (exit code {self.proc.poll()})")
        self.url = line
        self._http = httpx.Client(base_url=line, timeout=timeout)

    def inject(self, kind: str, **params: Any) -> None:
        self._http.post("/_admin/inject", json={"kind": kind, **params}).raise_for_status()

    def set_org(self, **params: Any) -> None:
        self._http.post("/_admin/set_org", json=params).raise_for_status()

    def configure(self, **params: float) -> None:
        self._http.post("/_admin/config", json=params).raise_for_status()

    def stats(self) -> dict[str, Any]:
        resp = self._http.get("/_admin/stats")
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def raw_log(self) -> bytes:
        return self._http.get("/_admin/raw_log").content

    def stop(self) -> None:
        self._http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> FakeRunwayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m vidspec.testing.fake_runway", description="A fake Runway API server."
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--url-ttl", type=float, default=3600.0)
    ap.add_argument("--output-scale", type=float, default=0.25)
    ap.add_argument("--credit-balance", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--valid-key", action="append", help="accept only these keys (repeatable)")
    ap.add_argument("--ready-file", type=Path)
    ns = ap.parse_args(argv)
    fake = FakeRunway(
        ns.latency, host=ns.host, port=ns.port, url_ttl=ns.url_ttl, output_scale=ns.output_scale,
        credit_balance=ns.credit_balance, concurrency=ns.concurrency,
        valid_keys=set(ns.valid_key) if ns.valid_key else None,
    ).start()  # fmt: skip
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(fake.url, flush=True)
    if ns.ready_file:
        tmp = ns.ready_file.with_name(ns.ready_file.name + ".tmp")
        tmp.write_text(fake.url + "\n")
        tmp.replace(ns.ready_file)
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
