"""Every way a command ends becomes its exit status in cli.py, and nowhere else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run, summary
from vidspec.app import build as build_module
from vidspec.errors import ConsentRequired, ProbeError, SpecError, StandinError

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server

TINY = 'version: 1\nname: tiny\nscenes:\n  - id: one\n    prompt: "A lighthouse at dusk, slow pan across the rocks"\n'


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY, "utf-8")
    return spec


@pytest.mark.parametrize("key", [" ", "   ", "\t\n"])
def test_a_blank_key_counts_as_not_set(
    tiny: Path, key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", key)
    code, out, err = run(["build", str(tiny), "--json", "--no-stitch"], capsys)
    assert code == 0, err
    assert "vidspec: no RUNWAYML_API_SECRET found: rendering a free local animatic (--backend preview)" in err
    assert summary(out)["backend"] == "preview" and summary(out)["generated"] == 1


def test_a_blank_key_with_the_paid_backend_says_it_is_not_set(
    tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", " ")
    code, _, err = run(["build", str(tiny), "--backend", "runway", "--yes", "--json", "--no-stitch"], capsys)
    assert code == 1 and "60 credits of assets need generating, but RUNWAYML_API_SECRET is not set" in err


def test_validate_plan_and_usage_exits(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["validate", str(tiny)], capsys)[0] == 0
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert run(["plan", str(tiny), *cache], capsys)[0] == 0
    assert run(["plan", str(tiny), "--detailed-exitcode", *cache], capsys)[0] == 2
    code, _, err = run(["plan", str(tiny), "--max-credits", "10", *cache], capsys)
    assert code == 1 and "VS601" in err
    code, _, err = run(["validate", str(tiny), "--no-such-flag"], capsys)
    assert code == 1 and "No such option" in err  # click's 2 is kept for "credits would be spent"
    assert run(["--version"], capsys)[0] == 0


def test_init_refusals_are_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["init", str(tmp_path), "--name", "-bad"], capsys)
    assert code == 1 and err.startswith("vidspec: --name '-bad': use letters")
    assert run(["init", str(tmp_path)], capsys)[0] == 0
    code, _, err = run(["init", str(tmp_path)], capsys)
    assert code == 1 and err == f"vidspec: {tmp_path / 'my-film.yaml'} exists; not overwriting it\n"


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        (ConsentRequired("not confirmed; nothing was spent"), 1, "vidspec: not confirmed; nothing was spent"),
        (SpecError("the spec has errors"), 1, "vidspec: the spec has errors"),
        (
            ProbeError("x.mp4: no audio or video stream found"),
            70,
            "vidspec: internal error: ProbeError: x.mp4",
        ),
        (StandinError("ffmpeg failed"), 70, "vidspec: internal error: StandinError: ffmpeg failed"),
        (RuntimeError("boom"), 70, "vidspec: internal error: RuntimeError: boom"),
        # Ctrl-C inside a command (click turns it into Abort): interrupted, and how to resume; not "aborted"
        (KeyboardInterrupt(), 130, "\nvidspec: interrupted; the cache and lockfile are intact"),
    ],
)
def test_exceptions_become_exits_in_one_place(
    tiny: Path,
    raised: BaseException,
    code: int,
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(build_module, "build", fail)
    got, _, err = run(["build", str(tiny), "--backend", "preview", "--json"], capsys)
    assert got == code and err.startswith(line)
