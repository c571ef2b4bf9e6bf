"""The model catalogue as JSON (the `models --json` contract) and as a rich table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from vidspec.core.catalog import CATALOG, DUB_LANGUAGES, VOICES, ModelRow


def models_json(
    rows: Sequence[ModelRow] = CATALOG,
    voices: Sequence[str] = VOICES,
    languages: Sequence[str] = DUB_LANGUAGES,
) -> dict[str, Any]:
    models = [{
        "model": r.model, "endpoint": r.endpoint, "kind": r.kind, "inputs": sorted(r.inputs),
        "requires": sorted(r.requires), "ratios": list(r.ratios),
        "durations": list(r.durations) if r.durations is not None else None,
        "price": r.price.describe(), "retired": r.retired,
    } for r in rows]  # fmt: skip
    return {"models": models, "voices": list(voices), "dub_languages": list(languages)}


def render_models(
    console: Console,
    *,
    show_voices: bool = False,
    rows: Sequence[ModelRow] = CATALOG,
    voices: Sequence[str] = VOICES,
    languages: Sequence[str] = DUB_LANGUAGES,
) -> None:
    table = Table(title="vidspec model catalogue (credits; 1 credit = $0.01)")
    for col in ("model", "endpoint", "inputs", "ratios", "durations", "price"):
        table.add_column(col, overflow="fold")
    for r in rows:
        inputs = ", ".join(f"{i}{'' if i in r.requires else '?'}" for i in sorted(r.inputs))
        name = r.model + (" (retired)" if r.retired else "")
        durations = r.durations_text() if r.kind == "video" else "0.5-30 s" if r.kind == "sound" else "-"
        table.add_row(name, r.endpoint, inputs, ", ".join(r.ratios) or "-", durations, r.price.describe())
    console.print(table)
    console.print("? = optional input")
    if show_voices:
        console.print("voices: " + ", ".join(voices))
        console.print("dubbing languages: " + ", ".join(languages))
