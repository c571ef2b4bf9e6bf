"""Diagnostics as JSON, and as compiler-style text rendered from that JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from vidspec.core.diagnostics import Diagnostic


def diagnostics_json(diags: Iterable[Diagnostic]) -> dict[str, Any]:
    return {"diagnostics": [d.to_dict() for d in diags]}


def render_one(d: dict[str, Any]) -> str:
    where = d["file"] or "<spec>"
    if d["line"] is not None:
        where += f":{d['line']}:{d['column']}"
    head = f"{where}: {d['severity']}[{d['code']}]: {d['message']}"
    if d["path"]:
        head += f" ({d['path']})"
    if d.get("hint"):
        head += f"\n  hint: {d['hint']}"
    return head


def summary(data: dict[str, Any]) -> str:
    errors = sum(1 for d in data["diagnostics"] if d["severity"] == "error")
    warnings = sum(1 for d in data["diagnostics"] if d["severity"] == "warning")

    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' if count != 1 else ''}"

    return f"{n(errors, 'error')}, {n(warnings, 'warning')}"


def render_text(diags: Iterable[Diagnostic], *, ok_line: str | None = None) -> str:
    data = diagnostics_json(diags)
    lines = [render_one(d) for d in data["diagnostics"]]
    if data["diagnostics"] or ok_line is None:
        lines.append(summary(data))
    else:
        lines.append(ok_line)
    return "\n".join(lines)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps(diagnostics_json(diags), indent=2)
