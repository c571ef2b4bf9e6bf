"""Input files: existence, format by content, size limits and the data-URI/upload threshold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, PathT, error, warning
from vidspec.core.inputs import FORMATS, MediaKind, input_ref
from vidspec.core.rules.hints import suggest
from vidspec.core.timing import Timing


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
    elif not cat.fits_data_uri(size, cat.MIME_TYPES.get(ref.suffix, "application/octet-stream")):
        yield warning(
            "VS303",
            f"{what} is {size / 2**20:.1f} MB, too large for a 5 MB data URI once base64-encoded: "
            "it will go through an ephemeral upload",
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
