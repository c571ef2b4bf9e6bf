"""Run an asset graph: dependencies first, independent assets concurrently, every output into the cache.

The scheduling here is the same for every backend; a Producer (runway/producer.py, preview/producer.py) makes
one asset's file. Identical requests (same key) are made once and shared.

A cached object is used only once its bytes match its record's sha256. A damaged one is moved aside
(quarantine), and a damaged or missing one is fetched again from its recorded task (free); it is created
anew only when the plan priced that (its key is in ``regenerate``). An input is checked again right before
it goes to a create.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from vidspec.backends.stills import stills_for
from vidspec.backends.team import claim_or_wait, renewing
from vidspec.core.graph import Asset, Still
from vidspec.core.hashing import file_sha256
from vidspec.errors import AssetFailed as AssetFailed  # producers raise it; defined in errors.py
from vidspec.errors import ProbeError
from vidspec.media.probe import MediaInfo, probe
from vidspec.store.cache import Check, LocalStore, Record, now, verify_file
from vidspec.store.lease import LeaseInfo
from vidspec.store.tiered import TeamTier

Emit = Callable[[dict[str, Any]], None]


@dataclass
class Produced:
    path: Path  # a temp file in the store's tmp dir
    task_id: str | None = None
    credits_charged: int | None = None
    note: str | None = None
    possibly_billed: int = 0  # credits of create requests whose answer was lost
    credits_api_estimate: int | None = None  # the create response's estimatedCost (Runway)


class Producer(Protocol):
    backend: str

    def limit_for(self, asset: Asset) -> int: ...

    async def produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        """Make one asset. Hold `slot` only while the generation itself runs (not while downloading)."""
        ...

    async def refetch(
        self,
        asset: Asset,
        key: str,
        record: Record,
        deps: Mapping[str, Path],
        emit: Emit,
        slot: asyncio.Semaphore,
    ) -> Produced:
        """The recorded output again, for free (Runway: from the recorded task; preview: rendered again).
        Raises AssetFailed when it cannot be had; never creates (that costs credits, and needs a plan)."""
        ...


@dataclass
class AssetResult:
    name: str
    scene: str
    kind: str
    model: str
    key: str
    state: str  # cached | done | refetched | shared | failed | skipped
    credits_estimated: int
    credits_charged: int | None = None
    task_id: str | None = None
    error: str | None = None
    path: Path | None = None
    duration: float | None = None
    output_sha256: str | None = None
    possibly_billed: int = 0
    note: str | None = None
    credits_api_estimate: int | None = None  # Runway's own estimate, from the create response

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.name, "scene": self.scene, "kind": self.kind, "model": self.model, "key": self.key,
            "state": self.state, "credits_estimated": self.credits_estimated,
            "credits_charged": self.credits_charged, "task_id": self.task_id, "error": self.error,
            "possibly_billed": self.possibly_billed, "duration": self.duration,
            "credits_api_estimate": self.credits_api_estimate,
        }  # fmt: skip


@dataclass
class BuildReport:
    results: list[AssetResult] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def failed(self) -> list[AssetResult]:
        return [r for r in self.results if r.state in ("failed", "skipped")]

    @property
    def generated(self) -> int:
        return sum(1 for r in self.results if r.state == "done")

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.state == "cached")

    @property
    def refetched(self) -> int:
        """Cached files that were damaged or missing and were fetched again from their tasks (free)."""
        return sum(1 for r in self.results if r.state == "refetched")

    @property
    def estimated(self) -> int:
        """Estimated credits of the assets this build generated (cached and shared ones cost nothing)."""
        return sum(r.credits_estimated for r in self.results if r.state == "done")

    @property
    def charged(self) -> int:
        """Charged by this build: failed tasks count too (SAFETY.INPUT failures are billed)."""
        return sum(r.credits_charged or 0 for r in self.results if r.state in ("done", "failed"))

    @property
    def possibly_billed(self) -> int:
        return sum(r.possibly_billed for r in self.results)


_EXPECT_STREAM = {"video": "video", "image": "video", "audio": "audio"}


def verify_media(path: Path, asset: Asset) -> MediaInfo:
    """The download is a media file of the expected kind and about the expected length."""
    try:
        info = probe(path)
    except ProbeError as exc:
        raise AssetFailed(f"the output is not a readable media file ({exc})") from None
    media = asset.media
    if media == "video" and (not info.has_video or info.is_image):
        raise AssetFailed("the output has no video stream")
    if media == "image" and not info.has_video:
        raise AssetFailed("the output is not an image")
    if media == "audio" and not info.has_audio:
        raise AssetFailed("the output has no audio stream")
    if media == "video" and asset.seconds:
        tolerance = max(0.5, 0.1 * asset.seconds)
        if abs(info.duration - asset.seconds) > tolerance:
            raise AssetFailed(f"the output lasts {info.duration:.2f} s, expected about {asset.seconds:g} s")
    return info


def _changed_input(deps: list[AssetResult]) -> str | None:
    """An input that no longer matches the bytes checked earlier in this build (never upload it)."""
    for dep in deps:
        if dep.path is not None and dep.output_sha256 is not None:
            if verify_file(dep.path, dep.output_sha256) != "ok":
                return (
                    f"its input '{dep.name}' ({dep.path}) changed on disk after it was checked "
                    "(sha256 mismatch); not submitted. Run the build again"
                )
    return None


class Executor:
    def __init__(
        self,
        store: LocalStore,
        producer: Producer,
        emit: Emit,
        *,
        regenerate: Collection[str] = (),
        team: TeamTier | None = None,
    ) -> None:
        self.store = store
        self.team = team  # the team cache: leases before creates, uploads after
        self.producer = producer
        self.emit = emit
        # Keys whose damaged or missing object the plan priced as a new create (its task is gone); every
        # other damaged or missing object may only be fetched again.
        self.regenerate = frozenset(regenerate)
        self._limits: dict[str, asyncio.Semaphore] = {}

    def _limit(self, asset: Asset) -> asyncio.Semaphore:
        model = asset.row.model
        if model not in self._limits:
            self._limits[model] = asyncio.Semaphore(max(1, self.producer.limit_for(asset)))
        return self._limits[model]

    async def run(self, assets: list[Asset], keys: Mapping[str, str]) -> BuildReport:
        start = time.monotonic()
        done: dict[str, asyncio.Task[AssetResult]] = {}
        first_of: dict[str, asyncio.Task[AssetResult]] = {}
        for asset in assets:  # dependency order: deps are scheduled first
            deps = {d: done[d] for d in asset.deps}
            key = keys[asset.name]
            # The first asset of a key makes it; later ones share its result, whichever task runs first.
            first = first_of.get(key)
            done[asset.name] = asyncio.create_task(self._one(asset, key, deps, first))
            first_of.setdefault(key, done[asset.name])
        try:
            results = list(await asyncio.gather(*done.values()))
        except BaseException:
            # A fatal error (a full disk, Ctrl-C): stop the others here, before the client closes under them
            # and before any of them submits another create. What is in flight stays journaled.
            for task in done.values():
                task.cancel()
            await asyncio.gather(*done.values(), return_exceptions=True)
            raise
        return BuildReport(results, time.monotonic() - start)

    def _result(self, asset: Asset, key: str, state: str, **kw: Any) -> AssetResult:
        return AssetResult(
            asset.name, asset.scene_id, asset.kind, asset.row.model, key, state, asset.credits, **kw
        )

    def _event(self, asset: Asset, state: str, **kw: Any) -> None:
        self.emit(
            {
                "event": "asset",
                "asset": asset.name,
                "scene": asset.scene_id,
                "kind": asset.kind,
                "model": asset.row.model,
                "state": state,
                "credits": asset.credits,
                **kw,
            }
        )

    def _shared(self, asset: Asset, key: str, first: AssetResult) -> AssetResult:
        note: str | None = None
        if first.state in ("cached", "skipped"):  # the same cache entry, or the same missing input
            state, event, credits = first.state, first.state, first.credits_charged
            extra: dict[str, Any] = {"message": first.error} if first.error else {}
        else:
            state = "shared" if first.path is not None else "failed"
            event, credits = ("done" if first.path else "failed"), 0
            note = f"same request as '{first.name}'"
            extra = {"shared_with": first.name}
        self._event(asset, event, **extra)
        return self._result(
            asset,
            key,
            state,
            path=first.path,
            duration=first.duration,
            task_id=first.task_id,
            credits_charged=credits,
            output_sha256=first.output_sha256,
            error=first.error,
            note=note,
        )

    async def _one(
        self,
        asset: Asset,
        key: str,
        deps: Mapping[str, asyncio.Task[AssetResult]],
        first_task: asyncio.Task[AssetResult] | None = None,
    ) -> AssetResult:
        if first_task is not None:  # same request as an earlier asset: make it once
            return self._shared(asset, key, await first_task)
        found = await asyncio.to_thread(self.store.check, key)
        if found.ok and found.record is not None:
            rec = found.record
            if self.team is not None:  # write-through: a local entry the team cache lacks is shared
                await asyncio.to_thread(self.team.share, key)
            self._event(asset, "cached")
            return self._result(
                asset,
                key,
                "cached",
                credits_charged=rec.credits_charged,
                task_id=rec.task_id,
                path=found.path,
                duration=rec.duration,
                output_sha256=rec.output_sha256,
            )
        refetch = found.state in ("missing", "damaged") and key not in self.regenerate
        dep_paths: dict[str, Path] = {}
        dep_results: list[AssetResult] = []
        for name, task in deps.items():
            dep = await task
            if dep.path is None:
                if refetch:  # the recorded output does not need its inputs again
                    continue
                self._event(asset, "skipped", message=f"needs '{name}', which failed")
                return self._result(asset, key, "skipped", error=f"needs '{name}', which failed")
            dep_paths[name] = dep.path
            dep_results.append(dep)
        if not refetch and any(isinstance(r, Still) for _, r in asset.inputs()):
            try:  # frames of other scenes' clips (continuity), extracted once and cached
                dep_keys = {d.name: d.key for d in dep_results}
                dep_paths.update(await asyncio.to_thread(stills_for, self.store, asset, dep_paths, dep_keys))
            except AssetFailed as exc:
                self._event(asset, "failed", message=str(exc))
                return self._result(asset, key, "failed", error=str(exc))
        if not refetch:
            self._event(asset, "waiting")
        if refetch:
            result = await self._refetch(asset, key, found, dep_paths)
            if self.team is not None and result.state == "refetched":
                await asyncio.to_thread(self.team.publish, key)
        else:
            if found.state == "damaged":  # a planned create replaces it; the bad file is kept aside
                await asyncio.to_thread(self.store.quarantine, key)
            bad = await asyncio.to_thread(_changed_input, dep_results)
            if bad is not None:
                self._event(asset, "failed", message=bad)
                result = self._result(asset, key, "failed", error=bad)
            else:
                result = await self._make_once(asset, key, dep_paths)
        return result

    async def _make_once(self, asset: Asset, key: str, dep_paths: Mapping[str, Path]) -> AssetResult:
        """With a team cache: one builder pays. Claim the lease; when another builder holds it, wait for its
        output and download it. The holder uploads what it made, verified, before releasing its lease."""
        team = self.team
        if team is None:
            return await self._make(asset, key, dep_paths)

        def waiting(holder: LeaseInfo) -> None:
            self._event(asset, "waiting", message=f"being generated elsewhere by {holder.describe()}")

        if await claim_or_wait(team, key, asset.name, waiting) == "fetched":
            found = await asyncio.to_thread(self.store.check, key)
            if found.ok and found.record is not None:
                rec = found.record
                note = "made by another builder; downloaded from the team cache"
                self._event(asset, "cached", message=note)
                return self._result(
                    asset, key, "cached", credits_charged=0, task_id=rec.task_id, path=found.path,
                    duration=rec.duration, output_sha256=rec.output_sha256, note=note,
                )  # fmt: skip
        async with renewing(team, key, asset.name):
            result = await self._make(asset, key, dep_paths)
            if result.state == "done":
                await asyncio.to_thread(team.publish, key)
        return result

    async def _refetch(
        self, asset: Asset, key: str, found: Check, dep_paths: Mapping[str, Path]
    ) -> AssetResult:
        """A damaged (moved aside first) or missing object, fetched again and checked like a new download."""
        assert found.record is not None
        rec = found.record
        started = time.monotonic()
        why = "cached file damaged (sha256 mismatch)" if found.state == "damaged" else "cached file missing"
        if found.state == "damaged":
            moved = await asyncio.to_thread(self.store.quarantine, key)
            if moved is not None:
                why += f"; moved to {moved} (quarantine)"
        self._event(asset, "refetching", message=f"{why}; fetching it again", task_id=rec.task_id)
        try:
            produced = await self.producer.refetch(asset, key, rec, dep_paths, self.emit, self._limit(asset))
            self._event(asset, "verifying")
            info = await asyncio.to_thread(verify_media, produced.path, asset)
            digest = await asyncio.to_thread(file_sha256, produced.path)
        except AssetFailed as exc:
            self._event(asset, "failed", message=str(exc), elapsed=round(time.monotonic() - started, 2))
            return self._result(asset, key, "failed", error=str(exc), task_id=rec.task_id)
        note = produced.note
        if digest != rec.output_sha256:
            note = "the file fetched again differs from the recorded sha256; recorded the new one"
        duration = None if asset.media == "image" else round(info.duration, 3)
        record = replace(
            rec,
            file=key.split(":", 1)[1] + produced.path.suffix,
            output_sha256=digest,
            size=produced.path.stat().st_size,
            duration=duration,
        )
        path = await asyncio.to_thread(self.store.put, key, produced.path, record)
        self._event(asset, "refetched", elapsed=round(time.monotonic() - started, 2), message=note)
        return self._result(
            asset,
            key,
            "refetched",
            credits_charged=rec.credits_charged,
            task_id=rec.task_id,
            path=path,
            duration=duration,
            output_sha256=digest,
            note=note,
        )

    async def _make(self, asset: Asset, key: str, dep_paths: Mapping[str, Path]) -> AssetResult:
        started = time.monotonic()
        try:
            produced = await self.producer.produce(asset, key, dep_paths, self.emit, self._limit(asset))
            self._event(asset, "verifying")
            info = await asyncio.to_thread(verify_media, produced.path, asset)
            digest = await asyncio.to_thread(file_sha256, produced.path)
        except AssetFailed as exc:
            self._event(asset, "failed", message=str(exc), elapsed=round(time.monotonic() - started, 2))
            return self._result(
                asset,
                key,
                "failed",
                error=str(exc),
                credits_charged=exc.charged,
                possibly_billed=exc.possibly_billed,
            )
        duration = None if asset.media == "image" else round(info.duration, 3)
        record = Record(
            key=key,
            name=asset.name,
            kind=asset.kind,
            model=asset.row.model,
            endpoint=asset.row.endpoint,
            file=key.split(":", 1)[1] + produced.path.suffix,
            output_sha256=digest,
            size=produced.path.stat().st_size,
            duration=duration,
            task_id=produced.task_id,
            credits_estimated=asset.credits,
            credits_charged=produced.credits_charged,
            created_at=now(),
            backend=self.producer.backend,
        )
        path = await asyncio.to_thread(self.store.put, key, produced.path, record)
        self._event(
            asset,
            "done",
            credits_charged=produced.credits_charged,
            elapsed=round(time.monotonic() - started, 2),
            message=produced.note,
        )
        return self._result(
            asset,
            key,
            "done",
            credits_charged=produced.credits_charged,
            task_id=produced.task_id,
            path=path,
            duration=duration,
            output_sha256=digest,
            note=produced.note,
            possibly_billed=produced.possibly_billed,
            credits_api_estimate=produced.credits_api_estimate,
        )
