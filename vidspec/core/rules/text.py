"""Prompt text: its length in UTF-16 code units, and advice on phrasing."""

from __future__ import annotations

import re
from collections.abc import Iterator

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, PathT, error, warning

NEGATIVE_RE = re.compile(r"\b(no|without|don'?t|do not|never|avoid)\s+([a-z][\w-]*)", re.IGNORECASE)


MULTI_SCENE_RE = re.compile(
    r"\b(cut to|then cuts? to|next scene|scene \d+|after that,|afterwards,|meanwhile|smash cut)\b",
    re.IGNORECASE,
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_prompt_text(text: str, path: PathT, what: str) -> Iterator[Diagnostic]:
    n = utf16_len(text)
    if n > cat.PROMPT_LIMIT_UTF16:
        yield error(
            "VS206",
            f"{what} is {n} UTF-16 code units long; the limit is {cat.PROMPT_LIMIT_UTF16}",
            path,
            f"shorten it by {n - cat.PROMPT_LIMIT_UTF16} (an emoji counts as 2)",
        )


def check_prompt_advice(text: str, path: PathT) -> Iterator[Diagnostic]:
    m = NEGATIVE_RE.search(text)
    if m:
        yield warning(
            "VS701",
            f"negative phrasing '{m.group(0)}' gives unpredictable results",
            path,
            "describe what should be seen instead (e.g. 'sharp focus' rather than 'no blur')",
        )
    m2 = MULTI_SCENE_RE.search(text)
    if m2:
        yield warning(
            "VS702",
            f"the prompt seems to describe more than one scene ('{m2.group(0)}')",
            path,
            "describe a single 5-10 s scene; split the rest into scenes of their own",
        )
