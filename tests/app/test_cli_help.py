"""`--help` tells a new user everything: every option has help text, the environment variables are listed,
and the README's claims about the examples hold."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tests.helpers import example_specs, run
from vidspec.app.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[tuple[str, click.Command]]:
    assert isinstance(cli, click.Group)
    return [("vidspec", cli), *((f"vidspec {n}", c) for n, c in sorted(cli.commands.items()))]


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_option_has_help(name: str, command: click.Command) -> None:
    missing = [
        p.opts[0]
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert missing == [], f"{name}: options without help text"
    assert (command.help or "").strip(), f"{name} has no help text"


def _environment_variables() -> set[str]:
    """Every variable the package reads (vidspec.testing aside), plus the ffmpeg override it inherits."""
    found = {"IMAGEIO_FFMPEG_EXE"}
    for py in (ROOT / "vidspec").rglob("*.py"):
        if "testing" not in py.relative_to(ROOT / "vidspec").parts:
            found |= set(re.findall(r"\b(?:RUNWAYML|VIDSPEC)_[A-Z_]+\b", py.read_text("utf-8")))
    return found


def test_top_level_help_lists_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    names = _environment_variables()
    assert {"RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "VIDSPEC_CACHE_DIR", "VIDSPEC_FONT"} <= names
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert [n for n in sorted(names) if n not in out] == []


def test_the_readme_counts_and_names_every_example() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
    m = re.search(r"`examples/` has (\w+) complete projects", readme)
    assert m is not None
    specs = example_specs()
    assert words[m.group(1)] == len(specs)
    paragraph = readme[m.start() : readme.index("\n\n", m.start())]
    assert [s.name for s in specs if f"`{s.name}`" not in paragraph] == []
    # The Quick start's promise: the preview build of the first example writes this file.
    assert "`examples/build/hawker-noodles.preview.mp4`" in readme
