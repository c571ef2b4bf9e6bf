"""The executor with a tiny in-process Producer: dedup by key, per-model slots, failures stay local, and every
download is checked as real media before it enters the cache."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ff
from vidspec.backends.executor import BuildReport, Emit, Executor, Produced
from vidspec.core.catalog import CATALOG, ModelRow
from vidspec.core.graph import Asset, AssetKind, AssetRef
from vidspec.errors import AssetFailed
from vidspec.store.cache import LocalStore, Record


def row(model: str) -> ModelRow:
    return next(r for r in CATALOG if r.model == model)


def asset(
    name: str,
    kind: AssetKind = "video",
    model: str = "gen4_turbo",
    seconds: float | None = 1.5,
    deps: tuple[str, ...] = (),
    credits: int = 10,
) -> Asset:
    scene = name.split(".")[0]
    image = AssetRef(deps[0], "image") if deps else None  # the executor reads only the dependency's name
    made = Asset(name, scene, 0, kind, row(model), credits, seconds, image=image)
    assert made.deps == deps
    return made


def key(n: int) -> str:
    return f"sha256:{n:064x}"


@dataclass
class FakeProducer:
    """Copies a prepared file per asset; counts calls and how many generations of each model overlap."""

    tmp: Path
    outputs: Mapping[str, Path]  # asset name -> the file to hand back
    limit: int = 1
    fail: Mapping[str, int | None] = field(default_factory=dict)  # asset name -> credits charged anyway
    backend: str = "fake"
    calls: list[str] = field(default_factory=list)
    deps_seen: dict[str, dict[str, Path]] = field(default_factory=dict)
    running: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    peak_total: int = 0

    def limit_for(self, asset: Asset) -> int:
        return self.limit

    async def produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        self.calls.append(asset.name)
        self.deps_seen[asset.name] = dict(deps)
        model = asset.row.model
        async with slot:
            self.running[model] = self.running.get(model, 0) + 1
            self.peak[model] = max(self.peak.get(model, 0), self.running[model])
            self.peak_total = max(self.peak_total, sum(self.running.values()))
            await asyncio.sleep(0.02)
            self.running[model] -= 1
        if asset.name in self.fail:
            raise AssetFailed(f"{asset.name}: refused", charged=self.fail[asset.name])
        src = self.outputs[asset.name]
        out = self.tmp / f"{uuid.uuid4().hex}{src.suffix}"
        shutil.copyfile(src, out)
        return Produced(out, task_id=f"task-{asset.name}", credits_charged=asset.credits)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "still.png"
    ff("-f", "lavfi", "-i", "testsrc2=size=64x36:rate=1", "-frames:v", "1", str(path))
    return path


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def run(
    store: LocalStore, producer: FakeProducer, assets: list[Asset], keys: Mapping[str, str]
) -> tuple[BuildReport, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    report = asyncio.run(Executor(store, producer, events.append).run(assets, keys))
    return report, events


def by_name(report: BuildReport) -> dict[str, Any]:
    return {r.name: r for r in report.results}


def test_identical_requests_are_made_once_and_shared(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    assets = [asset("a.video"), asset("b.video")]
    producer = FakeProducer(tmp_path, {"a.video": media["c0"], "b.video": media["c1"]})
    report, events = run(store, producer, assets, {"a.video": key(1), "b.video": key(1)})
    assert producer.calls == ["a.video"]
    a, b = by_name(report)["a.video"], by_name(report)["b.video"]
    assert (a.state, b.state) == ("done", "shared")
    assert b.path == a.path and b.credits_charged == 0 and b.note == "same request as 'a.video'"
    assert report.generated == 1 and report.estimated == 10 and report.charged == 10
    assert any(e.get("shared_with") == "a.video" for e in events)


def test_a_cached_asset_is_not_produced_again(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    producer = FakeProducer(tmp_path, {"a.video": media["c0"]})
    first, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    second, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    assert producer.calls == ["a.video"]
    result = second.results[0]
    assert result.state == "cached" and result.path == first.results[0].path
    assert result.output_sha256 == first.results[0].output_sha256 and result.task_id == "task-a.video"
    assert (second.cached, second.generated, second.estimated) == (1, 0, 0)
    record = store.record(key(1))
    assert isinstance(record, Record) and record.backend == "fake" and record.credits_charged == 10


@pytest.mark.parametrize("limit", [1, 2])
def test_each_model_has_its_own_slots(
    store: LocalStore, tmp_path: Path, media: dict[str, Path], limit: int
) -> None:
    turbo = [asset(f"t{i}.video") for i in range(4)]
    gen45 = [asset(f"g{i}.video", model="gen4.5") for i in range(4)]
    assets = turbo + gen45
    producer = FakeProducer(tmp_path, {a.name: media["c0"] for a in assets}, limit=limit)
    report, _ = run(store, producer, assets, {a.name: key(i) for i, a in enumerate(assets)})
    assert report.generated == 8 and not report.failed
    assert producer.peak == {"gen4_turbo": limit, "gen4.5": limit}
    assert producer.peak_total == 2 * limit  # the two models ran side by side


def test_a_failure_does_not_stop_the_others(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    assets = [
        asset("a.image", kind="image", model="gen4_image_turbo", seconds=None),
        asset("a.video", deps=("a.image",)),
        asset("b.video"),
        asset("c.narration", kind="narration", model="eleven_multilingual_v2", seconds=None),
    ]
    outputs = {"b.video": media["c1"], "c.narration": media["n1"], "a.video": media["c0"]}
    producer = FakeProducer(tmp_path, outputs, limit=2, fail={"a.image": 3})
    report, events = run(store, producer, assets, {a.name: key(i) for i, a in enumerate(assets)})
    results = by_name(report)
    assert results["a.image"].state == "failed" and results["a.image"].error == "a.image: refused"
    assert (
        results["a.video"].state == "skipped" and results["a.video"].error == "needs 'a.image', which failed"
    )
    assert results["b.video"].state == "done" and results["c.narration"].state == "done"
    assert "a.video" not in producer.calls  # never sent without its input
    assert [r.name for r in report.failed] == ["a.image", "a.video"]
    assert report.charged == 3 + 10 + 10  # the failed task was billed too
    assert {(e["asset"], e["state"]) for e in events} >= {("a.image", "failed"), ("a.video", "skipped")}


def test_dependencies_arrive_as_cached_paths(
    store: LocalStore, tmp_path: Path, media: dict[str, Path], image: Path
) -> None:
    assets = [
        asset("a.image", kind="image", model="gen4_image_turbo", seconds=None),
        asset("a.video", deps=("a.image",)),
    ]
    producer = FakeProducer(tmp_path, {"a.image": image, "a.video": media["c0"]})
    report, _ = run(store, producer, assets, {"a.image": key(1), "a.video": key(2)})
    img = by_name(report)["a.image"]
    assert img.state == "done" and img.duration is None  # an image has no length
    assert producer.deps_seen["a.video"] == {"a.image": img.path}
    assert img.path is not None and img.path.is_relative_to(store.root / "objects") and store.has(key(1))


@pytest.mark.parametrize(
    ("kind", "model", "seconds", "output", "message"),
    [
        ("video", "gen4_turbo", 1.5, "junk", "the output is not a readable media file"),
        ("video", "gen4_turbo", 1.5, "n1", "the output has no video stream"),
        ("video", "gen4_turbo", 1.5, "image", "the output has no video stream"),
        ("video", "gen4_turbo", 5.0, "c0", "the output lasts 1.50 s, expected about 5 s"),
        ("narration", "eleven_multilingual_v2", None, "c0", "the output has no audio stream"),
        ("image", "gen4_image_turbo", None, "n1", "the output is not an image"),
    ],
)
def test_downloads_are_verified_before_they_are_cached(
    store: LocalStore,
    tmp_path: Path,
    media: dict[str, Path],
    image: Path,
    kind: AssetKind,
    model: str,
    seconds: float | None,
    output: str,
    message: str,
) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    files = {**media, "image": image, "junk": junk}
    a = asset(f"x.{kind}", kind=kind, model=model, seconds=seconds)
    producer = FakeProducer(tmp_path, {a.name: files[output]})
    report, events = run(store, producer, [a], {a.name: key(7)})
    result = report.results[0]
    assert result.state == "failed" and result.error is not None and result.error.startswith(message)
    assert not store.has(key(7))  # a bad download never becomes a cache hit
    assert [e["state"] for e in events][-2:] == ["verifying", "failed"]


def test_a_good_download_is_recorded_with_its_facts(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    a = asset("x.video")
    producer = FakeProducer(tmp_path, {"x.video": media["sq"]})
    report, _ = run(store, producer, [a], {"x.video": key(3)})
    result = report.results[0]
    assert result.state == "done" and result.duration is not None and abs(result.duration - 1.5) < 0.1
    hit = store.get(key(3))
    assert hit is not None
    record, path = hit
    assert record.output_sha256 == result.output_sha256 and path == result.path
    assert record.size == path.stat().st_size and record.file.endswith(".mp4")
