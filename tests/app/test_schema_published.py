"""The committed schemas/vidspec.schema.json, checked by a standard validator as editors and CI use it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, example_specs

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "vidspec.schema.json"


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *args], capture_output=True, text=True, timeout=120
    )


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    # Checks every `pattern` as an ECMA-262 regex (check-jsonschema's default regex variant).
    r = check_jsonschema("--check-metaschema", str(SCHEMA))
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_example_passes_check_jsonschema() -> None:
    r = check_jsonschema("--schemafile", str(SCHEMA), *map(str, example_specs()))
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_jsonschema_rejects_an_unknown_model(tmp_path: Path) -> None:
    text = (EXAMPLES / "hawker-noodles.yaml").read_text("utf-8").replace("model: gen4.5", "model: gen45", 1)
    assert "model: gen45" in text
    (tmp_path / "typo.yaml").write_text(text, "utf-8")
    r = check_jsonschema("--schemafile", str(SCHEMA), str(tmp_path / "typo.yaml"))
    assert r.returncode == 1
    assert "gen45" in r.stdout


def test_the_json_example_names_its_schema() -> None:
    data = json.loads((EXAMPLES / "sambal-launch.json").read_text("utf-8"))
    assert data["$schema"] == "../schemas/vidspec.schema.json"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node for JavaScript's own RegExp")
def test_javascript_compiles_every_pattern() -> None:
    # yaml-language-server (VS Code) compiles patterns with JavaScript's RegExp, Unicode mode.
    script = (
        "const s = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));"
        "const bad = [];"
        "(function walk(n) { if (n && typeof n === 'object') { for (const [k, v] of Object.entries(n)) {"
        "  if (k === 'pattern' && typeof v === 'string') { try { new RegExp(v, 'u'); } catch (e) { bad.push(v + ': ' + e.message); } }"
        "  walk(v); } } })(s);"
        "console.log(JSON.stringify(bad));"
    )
    r = subprocess.run(["node", "-e", script, str(SCHEMA)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []
