"""The executor checks every cached object against its record before using it: a damaged one is moved aside and,
like a missing one, fetched again from its task (free); a new create happens only when the plan priced it."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.backends.test_executor import FakeProducer, asset, key
from vidspec.backends.executor import BuildReport, Emit, Executor, Produced
from vidspec.core.graph import Asset
from vidspec.errors import AssetFailed
from vidspec.store.cache import LocalStore, Record


@dataclass
class RefetchingProducer(FakeProducer):
    """FakeProducer that can also fetch an asset's recorded output again (or find its task gone)."""

    gone: set[str] = field(default_factory=set)
    refetched: list[str] = field(default_factory=list)
    refetch_outputs: dict[str, Path] = field(default_factory=dict)  # a different file than at first

    async def refetch(
        self, asset: Asset, key: str, record: Record, deps: Mapping[str, Path], emit: Emit,
        slot: asyncio.Semaphore,
    ) -> Produced:  # fmt: skip
        self.refetched.append(asset.name)
        if asset.name in self.gone:
            raise AssetFailed(f"task {record.task_id} is gone")
        src = self.refetch_outputs.get(asset.name) or self.outputs[asset.name]
        out = self.tmp / f"{uuid.uuid4().hex}{src.suffix}"
        shutil.copyfile(src, out)
        return Produced(out, task_id=record.task_id, credits_charged=record.credits_charged)


def run(
    store: LocalStore,
    producer: FakeProducer,
    assets: list[Asset],
    keys: Mapping[str, str],
    regenerate: frozenset[str] = frozenset(),
    emit: Emit | None = None,
) -> tuple[BuildReport, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def both(e: dict[str, Any]) -> None:
        events.append(e)
        if emit is not None:
            emit(e)

    report = asyncio.run(Executor(store, producer, both, regenerate=regenerate).run(assets, keys))
    return report, events


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_a_damaged_object_is_quarantined_and_fetched_again(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    producer = RefetchingProducer(tmp_path, {"a.video": media["c0"]})
    first, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    path = first.results[0].path
    assert path is not None
    flip(path)
    report, events = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    result = report.results[0]
    assert producer.calls == ["a.video"] and producer.refetched == ["a.video"]  # no second create
    assert result.state == "refetched" and not report.failed and report.refetched == 1
    assert (report.generated, report.cached, report.estimated, report.charged) == (0, 0, 0, 0)
    assert result.path == path and path.read_bytes() == media["c0"].read_bytes()
    assert store.check(key(1)).ok
    quarantined = list((store.root / "quarantine").iterdir())
    assert len(quarantined) == 1 and quarantined[0].stat().st_size == path.stat().st_size
    states = [e["state"] for e in events]
    assert states[0] == "refetching" and states[-1] == "refetched"
    assert "sha256 mismatch" in events[0]["message"] and "quarantine" in events[0]["message"]


def test_a_deleted_object_is_fetched_again(store: LocalStore, tmp_path: Path, media: dict[str, Path]) -> None:
    producer = RefetchingProducer(tmp_path, {"a.video": media["c0"]})
    first, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    assert first.results[0].path is not None
    first.results[0].path.unlink()
    report, events = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    assert report.results[0].state == "refetched" and producer.calls == ["a.video"]
    assert "missing" in events[0]["message"] and not (store.root / "quarantine").exists()


def test_a_gone_task_is_never_replaced_by_an_unplanned_create(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    producer = RefetchingProducer(tmp_path, {"a.video": media["c0"]})
    first, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    assert first.results[0].path is not None
    first.results[0].path.unlink()
    producer.gone.add("a.video")
    report, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    result = report.results[0]
    assert result.state == "failed" and "gone" in (result.error or "")
    assert producer.calls == ["a.video"]  # still only the first create


def test_a_planned_create_replaces_a_damaged_object(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    producer = RefetchingProducer(tmp_path, {"a.video": media["c0"]})
    first, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    assert first.results[0].path is not None
    flip(first.results[0].path)
    report, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)}, regenerate=frozenset({key(1)}))
    assert report.results[0].state == "done" and producer.calls == ["a.video", "a.video"]
    assert producer.refetched == [] and len(list((store.root / "quarantine").iterdir())) == 1
    assert store.check(key(1)).ok


def test_different_bytes_from_the_task_are_recorded_with_a_note(
    store: LocalStore, tmp_path: Path, media: dict[str, Path]
) -> None:
    producer = RefetchingProducer(
        tmp_path, {"a.video": media["c0"]}, refetch_outputs={"a.video": media["c1"]}
    )
    first, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    assert first.results[0].path is not None
    first.results[0].path.unlink()
    report, _ = run(store, producer, [asset("a.video")], {"a.video": key(1)})
    result = report.results[0]
    assert result.state == "refetched" and "differ" in (result.note or "")
    assert result.output_sha256 != first.results[0].output_sha256
    record = store.record(key(1))
    assert record is not None and record.output_sha256 == result.output_sha256 and store.check(key(1)).ok
    assert record.credits_charged == 10 and record.task_id == "task-a.video"  # the original facts stay


def test_an_input_damaged_after_its_check_is_never_uploaded(
    store: LocalStore, tmp_path: Path, media: dict[str, Path], image: Path
) -> None:
    img = asset("a.image", kind="image", model="gen4_image_turbo", seconds=None)
    vid = asset("a.video", deps=("a.image",))
    producer = RefetchingProducer(tmp_path, {"a.image": image, "a.video": media["c0"]})
    first, _ = run(store, producer, [img], {"a.image": key(1)})
    image_path = first.results[0].path
    assert image_path is not None

    def corrupt_when_cached(e: dict[str, Any]) -> None:  # after the image passed its check, before its use
        if e.get("asset") == "a.image" and e.get("state") == "cached":
            flip(image_path)

    report, _ = run(
        store, producer, [img, vid], {"a.image": key(1), "a.video": key(2)}, emit=corrupt_when_cached
    )
    results = {r.name: r for r in report.results}
    assert results["a.video"].state == "failed" and "a.image" in (results["a.video"].error or "")
    assert producer.calls == ["a.image"]  # the video was never created from the damaged image


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import ff

    path = tmp_path_factory.mktemp("img") / "still.png"
    ff("-f", "lavfi", "-i", "testsrc2=size=64x36:rate=1", "-frames:v", "1", str(path))
    return path
