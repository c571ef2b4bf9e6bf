"""Broken specs and their expected diagnostics. Regenerate on purpose: VIDSPEC_UPDATE_GOLDEN=1 pytest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vidspec.app.views.diagnostics import diagnostics_json, render_text
from vidspec.core.validate import validate_file

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(
    p.name
    for p in GOLDEN.iterdir()
    if p.suffix in (".yaml", ".json") and not p.name.endswith(".expected.json")
)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    result = validate_file(Path(case))
    diags = result.diagnostics.sorted()
    text = render_text(diags) + "\n"
    data = json.dumps(diagnostics_json(diags), indent=2, ensure_ascii=False) + "\n"
    stem = Path(case).stem
    txt_file, json_file = GOLDEN / f"{stem}.txt", GOLDEN / f"{stem}.expected.json"
    if os.environ.get("VIDSPEC_UPDATE_GOLDEN"):
        txt_file.write_text(text, "utf-8")
        json_file.write_text(data, "utf-8")
    assert result.diagnostics.has_errors(), "every golden case is broken on purpose"
    assert text == txt_file.read_text("utf-8")
    assert data == json_file.read_text("utf-8")
    for d in diags:  # every error in a file that exists has a place, an empty file included
        if d.severity == "error":
            assert d.line is not None and d.column is not None, d
