"""The suite never depends on what a user's own runs left in examples/ (the README's Quick start builds there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, copy_examples, example_specs, run, summary
from vidspec.testing import FakeRunway

SHIPPED = {
    "creative-control.yaml",
    "hawker-noodles.yaml",
    "night-market-vertical.yaml",
    "sambal-launch.json",
    "street-restyle.yaml",
}


def _plant_leftovers(examples: Path) -> None:
    """What a user's runs leave beside the examples: a cache, outputs, a lockfile, an init's schema."""
    (examples / ".vidspec" / "preview" / "objects").mkdir(parents=True)
    (examples / ".vidspec" / "preview" / "objects" / "x.mp4").write_bytes(b"cached")
    (examples / "build").mkdir()
    (examples / "build" / "hawker-noodles.ledger.json").write_text('{"credits_charged": 214}')
    (examples / "hawker-noodles.lock.json").write_text('{"version": 1, "assets": {}}')
    (examples / "vidspec.schema.json").write_text("{}")


def test_the_shipped_examples_are_listed() -> None:
    assert {p.name for p in example_specs()} == SHIPPED


def test_leftovers_are_neither_examples_nor_copied(tmp_path: Path) -> None:
    user = copy_examples(tmp_path / "user")
    _plant_leftovers(user)
    assert {p.name for p in example_specs(user)} == SHIPPED
    clean = copy_examples(tmp_path / "clean", src=user)
    assert {p.name for p in clean.iterdir()} == SHIPPED | {"assets"}
    assert {p.name for p in (clean / "assets").iterdir()} == {p.name for p in (EXAMPLES / "assets").iterdir()}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.05) as server:
        monkeypatch.setenv("RUNWAYML_BASE_URL", server.url)
        yield server


@pytest.mark.slow
def test_quick_start_then_the_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake: FakeRunway
) -> None:
    # A user's examples/ after the README's Quick start: the free preview build, then the paid one with a key.
    user = copy_examples(tmp_path / "user")
    code, out, err = run(["build", str(user / "hawker-noodles.yaml"), "--json", "--no-stitch"], capsys)
    assert code == 0 and summary(out)["generated"] == 9, err
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
    paid = ["build", str(user / "hawker-noodles.yaml"), "--yes", "--json", "--no-stitch"]
    code, out, err = run([*paid, "--poll-scale", "0.02"], capsys)
    assert code == 0 and summary(out)["generated"] == 9, err
    assert (user / ".vidspec").is_dir() and (user / "build").is_dir()
    assert (user / "hawker-noodles.lock.json").is_file()
    # What the suite's tests take from it: the shipped specs only, and a copy that builds from nothing.
    assert {p.name for p in example_specs(user)} == SHIPPED
    clean = copy_examples(tmp_path / "clean", src=user)
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    code, out, err = run(["build", str(clean / "hawker-noodles.yaml"), "--json", "--no-stitch"], capsys)
    assert code == 0, err
    assert summary(out)["generated"] == 9
