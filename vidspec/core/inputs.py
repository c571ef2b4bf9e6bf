"""Input references in a spec: local files (relative to the spec) or URLs, and what a scene feeds its model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidspec.core import catalog as cat
from vidspec.core.catalog import AUDIO_FORMATS, IMAGE_FORMATS, VIDEO_FORMATS
from vidspec.core.resolve import ResolvedScene

MediaKind = Literal["image", "video", "audio"]
FORMATS: dict[MediaKind, tuple[str, ...]] = {
    "image": IMAGE_FORMATS,
    "video": VIDEO_FORMATS,
    "audio": AUDIO_FORMATS,
}


# A look inside an input (a file, or a data URI's bytes) from the media layer, which may decode: None when it
# is sound, else what is wrong, worded to follow the input's name ("is not a readable image: ...").
MediaInspector = Callable[[MediaKind, Path | bytes], str | None]


@dataclass(frozen=True)
class InputRef:
    raw: str
    url: str | None = None
    path: Path | None = None

    @property
    def suffix(self) -> str:
        target = self.url.split("?")[0] if self.url else str(self.path)
        return Path(target).suffix.lower()


def is_file(path: Path) -> bool:
    """A file there; False, not an OSError, for a name the file system refuses (ENAMETOOLONG)."""
    try:
        return path.is_file()
    except OSError:
        return False


def is_url(raw: str) -> bool:
    return "://" in raw or raw.startswith("data:")


def input_ref(raw: str, base: Path) -> InputRef:
    if is_url(raw):
        return InputRef(raw, url=raw)
    if Path(raw).is_absolute():
        return InputRef(raw, path=Path(raw))
    try:
        return InputRef(raw, path=(base / raw).resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL: validation reports it (VS308)
        return InputRef(raw, path=base / raw)


def media_kind_of(ref: InputRef, default: MediaKind = "image") -> MediaKind:
    suffix = ref.suffix
    for kind, exts in FORMATS.items():
        if suffix in exts:
            return kind
    return default


def scene_inputs(rs: ResolvedScene) -> frozenset[str]:
    """The input kinds a scene gives its video model: text, image, video, character, performance, references."""
    have = set()
    if rs.get("prompt"):
        have.add("text")
    for name in ("image", "video", "character", "performance"):
        if rs.get(name) is not None:
            have.add(name)
    if rs.get("references"):
        have.add("references")
    return frozenset(have)


def video_row(rs: ResolvedScene) -> cat.ModelRow | None:
    """The catalogue row of the scene's video model for the endpoint its inputs pick."""
    return cat.row(rs.get("model"), cat.video_endpoint_for(scene_inputs(rs)))
