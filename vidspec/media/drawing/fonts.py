"""Find a TrueType font for cards and burned-in captions."""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path

from vidspec.errors import FontNotFound as FontNotFound  # defined in errors.py
from vidspec.media.probe import run_child

_SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


@lru_cache(maxsize=2)
def find_font(bold: bool = False) -> Path:
    """VIDSPEC_FONT, then the font-roboto wheel, then common system fonts, then fontconfig."""
    env = os.environ.get("VIDSPEC_FONT")
    if env:
        if Path(env).is_file():
            return Path(env)
        raise FontNotFound(f"VIDSPEC_FONT={env} is not a file")
    try:
        import font_roboto

        path = Path(font_roboto.RobotoBold if bold else font_roboto.Roboto)
        if path.is_file():
            return path
    except ImportError:
        pass
    for candidate in _SYSTEM_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-match"):
        out = run_child(["fc-match", "-f", "%{file}", "sans"], capture_output=True, text=True)
        if out.returncode == 0 and Path(out.stdout.strip()).is_file():
            return Path(out.stdout.strip())
    raise FontNotFound(
        "no TrueType font found for captions and cards; install one (e.g. Debian fonts-dejavu-core) "
        "or set VIDSPEC_FONT to a .ttf file"
    )
