"""validate / plan / models / schema / init through the real console script, as users run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.helpers import copy_examples, example_specs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = example_specs()
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def vidspec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidspec", *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates(example: Path) -> None:
    r = vidspec("validate", str(example))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "error[" not in r.stdout


@pytest.mark.parametrize(
    "case", ["bad-duration.yaml", "unknown-keys.yaml", "malformed.yaml", "trailing-comma.json"]
)
def test_broken_specs_exit_1_with_positions(case: str) -> None:
    r = vidspec("validate", case, cwd=GOLDEN)
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    expected = (GOLDEN / f"{Path(case).stem}.txt").read_text("utf-8")
    assert r.stdout == expected


def test_validate_json_format() -> None:
    r = vidspec("validate", "--format", "json", "bad-duration.yaml", cwd=GOLDEN)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    first = data["diagnostics"][0]
    assert set(first) == {"severity", "code", "message", "hint", "file", "line", "column", "path"}
    assert (first["code"], first["line"], first["column"], first["path"]) == (
        "VS205",
        6,
        15,
        "scenes[0].duration",
    )


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, "VS001"),
        ("dir", "VS001"),
        (b"\x00\x01\x02binary\xff", "VS001"),
        (b"", "VS003"),
        (b"- a\n- b\n", "VS004"),
        (b"version: [1\n", "VS002"),
        (b"\xff\xfe bad utf8", "VS001"),
    ],
)
def test_bad_files_one_line_no_traceback(tmp_path: Path, content: bytes | str | None, code: str) -> None:
    target = tmp_path / "spec.yaml"
    if content == "dir":
        target.mkdir()
    elif isinstance(content, bytes):
        target.write_bytes(content)
    r = vidspec("validate", str(target))
    assert r.returncode == 1
    assert f"error[{code}]" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    # one diagnostic and the count; its source line, caret and hint are indented under it
    assert len([line for line in lines if not line.startswith(" ")]) == 2 and len(lines) <= 5


def test_plan_json_contract_and_detailed_exitcode(tmp_path: Path) -> None:
    spec = copy_examples(tmp_path / "ex") / "hawker-noodles.yaml"  # never a user's ledger or lockfile
    r = vidspec("plan", "--json", "--cache-dir", str(tmp_path / "cache"), str(spec))
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    for key in ("spec", "total_credits", "to_spend_credits", "usd", "budget", "within_budget", "scenes"):
        assert key in data
    for scene in data["scenes"]:
        assert set(scene) >= {"id", "credits", "assets"}
        for a in scene["assets"]:
            assert set(a) >= {"kind", "model", "credits", "cached"}
            assert a["cached"] is False
    assert data["to_spend_credits"] == data["total_credits"] > 0
    r2 = vidspec(
        "plan",
        "--detailed-exitcode",
        "--cache-dir",
        str(tmp_path / "cache"),
        str(spec),
    )
    assert r2.returncode == 2
    assert "total:" in r2.stdout


def test_plan_over_budget_exits_1(tmp_path: Path) -> None:
    spec = copy_examples(tmp_path / "ex") / "hawker-noodles.yaml"
    r = vidspec(
        "plan",
        "--max-credits",
        "10",
        "--cache-dir",
        str(tmp_path / "cache"),
        str(spec),
    )
    assert r.returncode == 1
    assert "VS601" in r.stderr
    r2 = vidspec("plan", str(GOLDEN / "over-budget.yaml"))
    assert r2.returncode == 1 and "VS601" in r2.stderr and "Traceback" not in r2.stderr


def test_models_lists_the_catalogue() -> None:
    r = vidspec("models", "--json")
    data = json.loads(r.stdout)
    models = {(m["model"], m["endpoint"]) for m in data["models"]}
    assert ("gen4_turbo", "image_to_video") in models and len(models) == 15
    text = vidspec("models").stdout
    assert "gen4_turbo" in text and "5/s" in text


def test_schema_is_committed_and_fresh() -> None:
    r = vidspec("schema")
    committed = (ROOT / "schemas" / "vidspec.schema.json").read_text("utf-8")
    assert json.loads(r.stdout) == json.loads(committed), "run: vidspec schema > schemas/vidspec.schema.json"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_match_the_published_schema(example: Path) -> None:
    schema = json.loads((ROOT / "schemas" / "vidspec.schema.json").read_text("utf-8"))
    data = yaml.safe_load(example.read_text("utf-8"))
    jsonschema.validate(data, schema)
    if example.suffix != ".json":
        assert example.read_text("utf-8").startswith("# yaml-language-server: $schema=")


def test_init_writes_a_valid_project(tmp_path: Path) -> None:
    r = vidspec("init", str(tmp_path / "proj"))
    assert r.returncode == 0, r.stderr
    spec = tmp_path / "proj" / "my-film.yaml"
    assert vidspec("validate", str(spec)).returncode == 0
    again = vidspec("init", str(tmp_path / "proj"))
    assert again.returncode == 1 and "not overwriting" in again.stderr


def test_front_end_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, vidspec.core.validate, vidspec.core.plan, vidspec.core.keys, vidspec.app.workspace;"
        "print(sorted(m for m in ('moviepy', 'httpx', 'numpy', 'PIL') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr
