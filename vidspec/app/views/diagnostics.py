"""Diagnostics as JSON, and as compiler-style text rendered from that JSON."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from vidspec.core.diagnostics import Diagnostic


def diagnostics_json(diags: Iterable[Diagnostic]) -> dict[str, Any]:
    return {"diagnostics": [d.to_dict() for d in diags]}


WINDOW = 100  # display cells of a source line shown around the caret
TAB = 4


def _safe(text: str) -> str:
    """User text in a message, without control characters that would act on the terminal."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in text
    )


def _cell(ch: str) -> tuple[str, int]:
    """How one source character is shown, and its width in terminal cells."""
    if ch == "\t":
        return " " * TAB, TAB
    if unicodedata.category(ch)[0] == "C":  # controls, format (bidi) characters, unassigned
        return ("\u2421" if ch == "\x7f" else chr(0x2400 + ord(ch)) if ch < " " else "\ufffd"), 1
    if unicodedata.combining(ch):
        return ch, 0
    return ch, 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def excerpt(line: int, column: int, source_line: str) -> list[str]:
    """The source line and a caret under the column, as rustc and Terraform show them."""
    cells = [_cell(ch) for ch in source_line]
    at = max(0, min(column - 1, len(cells)))
    start, end = 0, len(cells)
    if sum(w for _, w in cells) > WINDOW:  # a long line (minified JSON): a window around the column
        start, width = at, 0
        while start > 0 and width + cells[start - 1][1] <= WINDOW // 3:
            start -= 1
            width += cells[start][1]
        end, width = start, 0
        while end < len(cells) and width + cells[end][1] <= WINDOW:
            width += cells[end][1]
            end += 1
    shown = (
        ("…" if start else "") + "".join(t for t, _ in cells[start:end]) + ("…" if end < len(cells) else "")
    )
    pad = (1 if start else 0) + sum(w for _, w in cells[start:at])
    gutter = str(line)
    return [f"  {gutter} | {shown}".rstrip(), f"  {' ' * len(gutter)} | {' ' * pad}^"]


def render_one(d: dict[str, Any], source_line: str | None = None) -> str:
    where = d["file"] or "<spec>"
    if d["line"] is not None:
        where += f":{d['line']}:{d['column']}"
    head = f"{where}: {d['severity']}[{d['code']}]: {_safe(d['message'])}"
    if d["path"]:
        head += f" ({_safe(d['path'])})"
    lines = [head]
    if source_line is not None and d["line"] is not None and d["column"] is not None:
        lines += excerpt(d["line"], d["column"], source_line)
    if d.get("hint"):
        lines.append(f"  hint: {_safe(d['hint'])}")
    return "\n".join(lines)


def summary(data: dict[str, Any]) -> str:
    errors = sum(1 for d in data["diagnostics"] if d["severity"] == "error")
    warnings = sum(1 for d in data["diagnostics"] if d["severity"] == "warning")

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' if count != 1 else ''}"

    return f"{n(errors, 'error')}, {n(warnings, 'warning')}"


def render_text(diags: Iterable[Diagnostic], *, ok_line: str | None = None) -> str:
    diags = list(diags)
    data = diagnostics_json(diags)
    lines = [render_one(d, diag.source_line) for diag, d in zip(diags, data["diagnostics"])]
    if data["diagnostics"] or ok_line is None:
        lines.append(summary(data))
    else:
        lines.append(ok_line)
    return "\n".join(lines)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps(diagnostics_json(diags), indent=2)
