"""The one-line summary of a plan or a plan diff, and credits and dollars in words."""

from __future__ import annotations

from collections.abc import Mapping

from vidspec.core.pricing import usd


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def credits_words(n: int) -> str:
    """`1 credit`, `61 credits`."""
    return plural(n, "credit")


def dollars(n: int, *, sign: bool = False) -> str:
    """Credits in dollars: `$0.61`; with ``sign``: `+$0.61`, `-$0.61`, `$0.00`."""
    value = usd(abs(n))
    text = f"${value:.2f}"
    if sign and n:
        return ("+" if n > 0 else "-") + text
    return text


def signed_credits(n: int) -> str:
    """`+61 credits`, `-1 credit`, `0 credits`."""
    return ("+" if n > 0 else "-" if n < 0 else "") + credits_words(abs(n))


def summary_line(
    counts: Mapping[str, int], to_spend: int, *, kept: str = "cached", free: bool = False
) -> str:
    """`Plan: 2 to create, 1 to regenerate, 6 cached, 0 removed; to spend 61 credits ($0.61)`.

    ``kept``: the word for what needs nothing ("unchanged" in a diff); refetched and shared assets are named
    only when there are some; ``free``: the preview, which spends nothing."""
    parts = [
        f"{counts['create']} to create",
        f"{counts['regenerate']} to regenerate",
        f"{counts['cached']} {kept}",
    ]
    if counts.get("refetch"):
        parts.append(f"{counts['refetch']} to fetch again")
    if counts.get("reuse"):
        parts.append(f"{counts['reuse']} shared")
    parts.append(f"{counts['removed']} removed")
    spend = (
        "to spend nothing (the preview is free)"
        if free
        else f"to spend {credits_words(to_spend)} ({dollars(to_spend)})"
    )
    return f"Plan: {', '.join(parts)}; {spend}"
