"""The model catalogue: one row per (model, endpoint). It drives validation, pricing and request shape.

Adding a model means adding a row here; tests/test_catalog.py says what else is missing.
Prices are the brief's list prices in credits (1 credit = $0.01); see shared/runway-api.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Endpoint = Literal[
    "text_to_video",
    "image_to_video",
    "video_to_video",
    "character_performance",
    "text_to_image",
    "text_to_speech",
    "sound_effect",
    "voice_dubbing",
    "footage",
]
Kind = Literal["video", "image", "speech", "sound", "dub"]
PriceUnit = Literal["second", "image", "chars", "seconds_block"]

GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
IMAGE_RATIOS = (
    "1024:1024", "1080:1080", "1168:880", "1360:768", "1440:1080", "1080:1440", "1808:768",
    "1920:1080", "1080:1920", "2112:912", "1280:720", "720:1280", "720:720", "960:720",
    "720:960", "1680:720",
)  # fmt: skip
ALEPH_RATIOS = (*GEN4_RATIOS, "848:480", "640:480")

VOICES = (
    "Maya", "Arjun", "Serene", "Bernard", "Billy", "Mark", "Clint", "Mabel", "Chad", "Leslie",
    "Eleanor", "Elias", "Elliot", "Grungle", "Brodie", "Sandra", "Kirk", "Kylie", "Lara", "Lisa",
    "Malachi", "Marlene", "Martin", "Miriam", "Monster", "Paula", "Pip", "Rusty", "Ragnar", "Xylar",
    "Maggie", "Jack", "Katie", "Noah", "James", "Rina", "Ella", "Mariah", "Frank", "Claudia",
    "Niki", "Vincent", "Kendrick", "Myrna", "Tom", "Wanda", "Benjamin", "Kiana", "Rachel",
)  # fmt: skip
DUB_LANGUAGES = (
    "en", "hi", "pt", "zh", "es", "fr", "de", "ja", "ar", "ru", "ko", "id", "it", "nl", "tr",
    "pl", "sv", "fil", "ms", "ro", "uk", "el", "cs", "da", "fi", "bg", "hr", "sk", "ta",
)  # fmt: skip

PROMPT_LIMIT_UTF16 = 1000
DATA_URI_LIMIT = 5 * 1024 * 1024  # of the whole data URI, so of the base64 text, not of the file


def fits_data_uri(size: int, mime: str = "application/octet-stream", *, limit: int = DATA_URI_LIMIT) -> bool:
    """Whether a file of `size` bytes, base64-encoded, still fits a data URI (4 characters per 3 bytes)."""
    return len(f"data:{mime};base64,") + 4 * ((size + 2) // 3) <= limit


# The MIME type the API expects for a local input, by extension (the data URI's and the upload's type).
MIME_TYPES: dict[str, str] = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/mp4",
}


IMAGE_URL_LIMIT = 16 * 1024 * 1024
UPLOAD_LIMIT = 200 * 1024 * 1024
MAX_REFERENCE_IMAGES = 3
SOUND_DURATION = (0.5, 30.0)
PERFORMANCE_DURATION = (3.0, 30.0)
IMAGE_FORMATS = (".jpg", ".jpeg", ".png", ".webp")
VIDEO_FORMATS = (".mp4", ".mov")
AUDIO_FORMATS = (".wav", ".mp3", ".m4a", ".aac", ".ogg", ".flac")
API_VERSION = "2024-11-06"


@dataclass(frozen=True)
class Price:
    unit: PriceUnit
    credits: int  # per unit
    credits_alt: int | None = None  # veo without audio; gen4_image at 1080p
    block: int = 1  # chars per credit (speech) or seconds per credit (sound, dubbing)
    note: str = ""

    def describe(self) -> str:
        if self.unit == "second":
            alt = f" ({self.credits_alt}/s without audio)" if self.credits_alt is not None else ""
            return f"{self.credits}/s{alt}"
        if self.unit == "image":
            if self.credits_alt is not None:
                return f"{self.credits} (720p) - {self.credits_alt} (1080p) per image"
            return f"{self.credits} per image"
        if self.unit == "chars":
            return f"1 per {self.block} characters"
        return f"1 per {self.block} s"


@dataclass(frozen=True)
class ModelRow:
    model: str
    endpoint: Endpoint
    kind: Kind
    inputs: frozenset[
        str
    ]  # what the endpoint takes: text, image, video, character, performance, references, audio
    requires: frozenset[str]  # which of those must be present
    price: Price
    ratios: tuple[str, ...] = ()
    durations: tuple[int, ...] | None = None  # None: the output length follows an input (or the text)
    options: frozenset[str] = field(default_factory=frozenset)  # optional scene fields the model honours
    image_positions: tuple[str, ...] = ("first",)
    retired: str | None = None

    @property
    def label(self) -> str:
        return f"{self.model} {self.endpoint.replace('_', '-')}"

    def durations_text(self) -> str:
        if self.durations is None:
            return "length of the input"
        d = self.durations
        if len(d) > 2 and d == tuple(range(d[0], d[-1] + 1)):
            return f"{d[0]}-{d[-1]} s (integer)"
        return ", ".join(str(x) for x in d) + " s"


_RUNWAY_OPTS = frozenset({"seed", "public_figure_threshold"})
_VEO_OPTS = frozenset({"seed", "audio"})
_GEN45_PRICE = Price("second", 12)
_VEO_PRICE = Price("second", 40, credits_alt=20)
_VEO_FAST_PRICE = Price("second", 15, credits_alt=10)
_D2_10 = tuple(range(2, 11))

CATALOG: tuple[ModelRow, ...] = (
    ModelRow("gen4.5", "text_to_video", "video", frozenset({"text"}), frozenset({"text"}),
             _GEN45_PRICE, ("1280:720", "720:1280"), _D2_10, _RUNWAY_OPTS),
    ModelRow("gen4.5", "image_to_video", "video", frozenset({"image", "text"}), frozenset({"image", "text"}),
             _GEN45_PRICE, GEN4_RATIOS, _D2_10, _RUNWAY_OPTS),
    ModelRow("gen4_turbo", "image_to_video", "video", frozenset({"image", "text"}), frozenset({"image"}),
             Price("second", 5), GEN4_RATIOS, _D2_10, _RUNWAY_OPTS),  # OpenAPI: 2-10 (the brief: 5 or 10)
    ModelRow("veo3.1", "text_to_video", "video", frozenset({"text"}), frozenset({"text"}),
             _VEO_PRICE, VEO_RATIOS, (4, 6, 8), _VEO_OPTS),
    ModelRow("veo3.1", "image_to_video", "video", frozenset({"image", "text"}), frozenset({"image"}),
             _VEO_PRICE, VEO_RATIOS, (4, 6, 8), _VEO_OPTS, ("first", "last")),
    ModelRow("veo3.1_fast", "text_to_video", "video", frozenset({"text"}), frozenset({"text"}),
             _VEO_FAST_PRICE, VEO_RATIOS, (4, 6, 8), _VEO_OPTS),
    ModelRow("veo3.1_fast", "image_to_video", "video", frozenset({"image", "text"}), frozenset({"image"}),
             _VEO_FAST_PRICE, VEO_RATIOS, (4, 6, 8), _VEO_OPTS, ("first", "last")),
    ModelRow("gen4_aleph", "video_to_video", "video", frozenset({"video", "text", "references"}),
             frozenset({"video", "text"}), Price("second", 15), ALEPH_RATIOS, None, _RUNWAY_OPTS,
             retired="gen4_aleph is retired from creation in SDK 5.x and may be refused; use aleph2"),
    ModelRow("aleph2", "video_to_video", "video", frozenset({"video", "text", "references"}),
             frozenset({"video", "text"}), Price("second", 28, note="price not confirmed"), (), None,
             _RUNWAY_OPTS),
    ModelRow("act_two", "character_performance", "video", frozenset({"character", "performance"}),
             frozenset({"character", "performance"}), Price("second", 5), GEN4_RATIOS, None, _RUNWAY_OPTS),
    ModelRow("gen4_image", "text_to_image", "image", frozenset({"text", "references"}), frozenset({"text"}),
             Price("image", 5, credits_alt=8), IMAGE_RATIOS, None, _RUNWAY_OPTS),
    ModelRow("gen4_image_turbo", "text_to_image", "image", frozenset({"text", "references"}),
             frozenset({"text", "references"}), Price("image", 2), IMAGE_RATIOS, None, _RUNWAY_OPTS),
    ModelRow("eleven_multilingual_v2", "text_to_speech", "speech", frozenset({"text"}), frozenset({"text"}),
             Price("chars", 1, block=50)),
    ModelRow("eleven_text_to_sound_v2", "sound_effect", "sound", frozenset({"text"}), frozenset({"text"}),
             Price("seconds_block", 1, block=6)),
    ModelRow("eleven_voice_dubbing", "voice_dubbing", "dub", frozenset({"audio"}), frozenset({"audio"}),
             Price("seconds_block", 1, block=2)),
)  # fmt: skip

# A scene's own footage (`clip:`): cut locally from the user's file, never sent to Runway, free. Not in CATALOG,
# so no model list, did-you-mean or schema enum offers it.
FOOTAGE_ROW = ModelRow(
    "footage", "footage", "video", frozenset({"video"}), frozenset({"video"}), Price("second", 0)
)

_RUNWAY_WIRE = {"seed": "seed", "public_figure_threshold": "contentModeration"}
# What each endpoint's request carries besides "model": vidspec's field name -> the API's, in body order.
# requests.py writes every body from this table, so a new wire field is one entry here (and, if the API
# nests it, one shape in requests.py).
WIRE_NAMES: dict[Endpoint, dict[str, str]] = {
    "text_to_video": {"prompt": "promptText", "ratio": "ratio", "duration": "duration", "audio": "audio",
                      **_RUNWAY_WIRE},
    "image_to_video": {"prompt": "promptText", "image": "promptImage", "ratio": "ratio", "duration": "duration",
                       "audio": "audio", **_RUNWAY_WIRE},
    "video_to_video": {"prompt": "promptText", "video": "videoUri", "references": "references", "ratio": "ratio",
                       **_RUNWAY_WIRE},
    "character_performance": {"character": "character", "performance": "reference", "ratio": "ratio",
                              **_RUNWAY_WIRE},
    "text_to_image": {"prompt": "promptText", "ratio": "ratio", "references": "referenceImages", **_RUNWAY_WIRE},
    "text_to_speech": {"prompt": "promptText", "voice": "voice"},
    "sound_effect": {"prompt": "promptText", "duration": "duration", "loop": "loop"},
    "voice_dubbing": {"narration": "audioUri", "language": "targetLang"},
    "footage": {"video": "clip", "trim": "trim"},  # not a request: what the footage asset's key hashes
}  # fmt: skip

MODEL_NAMES: tuple[str, ...] = tuple(dict.fromkeys(r.model for r in CATALOG))
_BY_MODEL: dict[str, tuple[ModelRow, ...]] = {
    name: tuple(r for r in CATALOG if r.model == name) for name in MODEL_NAMES
}
DEFAULT_MODELS: dict[Kind, str] = {
    "video": "gen4.5",
    "image": "gen4_image",
    "speech": "eleven_multilingual_v2",
    "sound": "eleven_text_to_sound_v2",
    "dub": "eleven_voice_dubbing",
}


def rows_for(model: str) -> tuple[ModelRow, ...]:
    return _BY_MODEL.get(model, ())


def kind_of(model: str) -> Kind | None:
    rows = rows_for(model)
    return rows[0].kind if rows else None


def models_of_kind(kind: Kind) -> list[str]:
    return [m for m in MODEL_NAMES if _BY_MODEL[m][0].kind == kind]


def video_endpoint_for(inputs: frozenset[str]) -> Endpoint:
    """Which video endpoint a scene's inputs call for."""
    if "character" in inputs or "performance" in inputs:
        return "character_performance"
    if "video" in inputs:
        return "video_to_video"
    if "image" in inputs:
        return "image_to_video"
    return "text_to_video"


def row(model: str, endpoint: str) -> ModelRow | None:
    for r in rows_for(model):
        if r.endpoint == endpoint:
            return r
    return None


def is_1080p(ratio: str) -> bool:
    """gen4_image's price tier: ratios whose short side is 720 are 720p; the rest are 1080p."""
    w, h = (int(x) for x in ratio.split(":"))
    return min(w, h) > 720


def ratio_size(ratio: str) -> tuple[int, int]:
    w, h = ratio.split(":")
    return int(w), int(h)
