"""A look inside an input before it is sent: does an image decode, does a video hold a video stream.

Magic bytes say little: a PNG header followed by text passes them. Core decodes nothing (no Pillow there), so
validation is handed `inspect_media` by the app layer. Pillow is imported only when an image is inspected.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

from vidspec.core.inputs import MediaKind
from vidspec.core.mp4 import mp4_track_handlers

__all__ = ["inspect_media"]


def inspect_media(kind: MediaKind, source: Path | bytes) -> str | None:
    """None when `source` (a file, or a data URI's bytes) is sound media of `kind`; else what is wrong, worded
    to follow the input's name. Audio is not inspected."""
    if kind == "image":
        return _image_problem(source)
    if kind == "video":
        handlers = mp4_track_handlers(source)
        if handlers is None or b"vide" not in handlers:
            return "has no video stream"
        return _first_frame_problem(source) if isinstance(source, Path) else None
    return None


def _first_frame_problem(path: Path) -> str | None:
    """A video track can hold anything: decode its first frame (one short ffmpeg run, stops at an error)."""
    from vidspec.media.probe import run_ffmpeg

    proc = run_ffmpeg(
        "-v", "error", "-xerror", "-i", str(path), "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"
    )
    if proc.returncode == 0:
        return None
    reason = next((line.strip() for line in proc.stderr.splitlines() if line.strip()), "ffmpeg failed")
    return f"has a video stream that does not decode ({reason[:120]})"


def _image_problem(source: Path | bytes) -> str | None:
    from PIL import Image, UnidentifiedImageError

    def opened() -> Image.Image:
        return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with opened() as im:
                im.verify()  # structure and checksums, without a full decode
            with opened() as im:
                if im.format == "JPEG":  # verify() checks little of a JPEG: decode it at 1/8 scale
                    im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
                    im.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return "is not a readable image (too many pixels to decode safely)"
    except UnidentifiedImageError:
        return "is not a readable image (no image format recognises its content)"
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError) as exc:
        reason = str(exc).split("\n")[0] or type(exc).__name__
        return f"is not a readable image ({reason})"
    return None
