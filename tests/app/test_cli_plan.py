"""`vidspec plan` says which backend the next build uses, and shows the plan even over budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run, summary

TINY = 'version: 1\nname: tiny\nscenes:\n  - id: one\n    prompt: "A lighthouse at dusk, slow pan across the rocks"\n'
OVER = "version: 1\nname: over\nbudget: 50\n" + TINY.split("name: tiny\n", 1)[1]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY, "utf-8")
    return spec


def plan_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    code, out, err = run(["plan", "--json", *args], capsys)
    data: dict[str, object] = json.loads(out)
    return code, data, err


def test_without_a_key_the_plan_says_the_next_build_is_a_free_preview(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["plan", str(tiny)], capsys)
    assert code == 0
    assert "backend: preview (RUNWAYML_API_SECRET is not set; a build renders a free animatic)" in out
    # What a paid build would spend is still shown, but never as what the next build spends.
    assert "to spend: 60 credits ($0.60) with --backend runway; the next build is a free preview" in out
    assert "on the next build" not in out
    code, data, _ = plan_json([str(tiny)], capsys)
    assert code == 0 and data["backend"] == "preview"
    assert data["backend_reason"] == "RUNWAYML_API_SECRET is not set; a build renders a free animatic"
    assert data["to_spend_credits"] == data["total_credits"] == 60  # priced as a paid build, as before
    assert data["cache_namespace"] == "runway"


def test_with_a_key_the_plan_says_runway(
    tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
    code, out, _ = run(["plan", str(tiny)], capsys)
    assert code == 0
    assert "backend: runway (RUNWAYML_API_SECRET is set)" in out
    assert "to spend: 60 credits ($0.60) on the next build" in out
    assert "test-key-not-real" not in out
    code, data, _ = plan_json([str(tiny)], capsys)
    assert data["backend"] == "runway" and data["backend_reason"] == "RUNWAYML_API_SECRET is set"


@pytest.mark.parametrize("backend", ["runway", "preview"])
def test_an_explicit_backend_is_the_reason(
    tiny: Path, backend: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "preview":
        monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
    code, out, _ = run(["plan", str(tiny), "--backend", backend], capsys)
    assert code == 0 and f"backend: {backend} (--backend)" in out
    if backend == "preview":
        assert "to spend: nothing: the preview backend is free (1 asset to render)" in out
    code, data, _ = plan_json([str(tiny), "--backend", backend], capsys)
    assert data["backend"] == backend and data["backend_reason"] == "--backend"
    assert data["cache_namespace"] == backend


def test_a_blank_key_is_not_set_for_the_plan_either(
    tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", "  ")
    _, data, _ = plan_json([str(tiny)], capsys)
    assert data["backend"] == "preview"


@pytest.mark.slow  # renders a preview: real media
def test_the_plan_names_the_backend_the_next_build_uses(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data, _ = plan_json([str(tiny)], capsys)
    code, out, err = run(["build", str(tiny), "--json", "--no-stitch"], capsys)
    assert code == 0, err
    assert summary(out)["backend"] == data["backend"] == "preview"


# ------------------------------------------------------------------------------------------ over budget


@pytest.mark.parametrize("how", ["spec", "flag"])
def test_over_budget_still_shows_the_plan(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "over.yaml"
    spec.write_text(OVER if how == "spec" else TINY, "utf-8")
    flag = [] if how == "spec" else ["--max-credits", "10"]
    code, out, err = run(["plan", str(spec), *flag], capsys)
    assert code == 1
    assert "VS601" in err and "the spec has errors" not in err
    assert "plan: " in out and "total: 60 credits" in out
    # The spec's budget, or the run cap of --max-credits (items 1/2 made it one): either way, said in the plan.
    assert "OVER BUDGET" in out
    assert "over budget" in err.splitlines()[-1]


@pytest.mark.parametrize("how", ["spec", "flag"])
def test_over_budget_json_is_the_full_plan(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "over.yaml"
    spec.write_text(OVER if how == "spec" else TINY, "utf-8")
    flag = [] if how == "spec" else ["--max-credits", "10"]
    code, data, err = plan_json([str(spec), *flag], capsys)
    assert code == 1 and "VS601" in err
    assert data["total_credits"] == 60
    if how == "spec":
        assert data["within_budget"] is False and data["budget"] == 50
    assert [s["id"] for s in data["scenes"]] == ["one"]  # type: ignore[attr-defined,index]


def test_other_errors_still_stop_before_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(OVER.replace("prompt:", "duration: 99\n    prompt:"), "utf-8")
    code, out, err = run(["plan", str(spec)], capsys)
    assert code == 1 and "VS205" in err and "the spec has errors" in err
    assert out == ""
