"""Did-you-mean hints for a misspelt choice."""

from __future__ import annotations

import difflib


def suggest(word: str, choices: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    lower = {c.lower(): c for c in choices}
    if word.lower() in lower:
        return [lower[word.lower()]]
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.6)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...], fallback: str | None = None) -> str | None:
    close = suggest(word, choices)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return fallback
