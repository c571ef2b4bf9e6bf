"""The paid backend: submit each asset to Runway, journal its task id before polling, download the output.

Never pays twice for one request: a journaled task is re-attached by id; a create whose response was lost
is counted as possibly billed before any retry; the budget counts finished, in-flight and possibly-billed
work before each submission.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from vidspec.backends.executor import AssetFailed, Emit, Produced
from vidspec.backends.runway.client import Organization, RunwayClient, Task
from vidspec.backends.runway.tasks import DISPLAY, PollSchedule, retryable_failure
from vidspec.core.budget import within_budget
from vidspec.core.graph import Asset, AssetRef, Input
from vidspec.core.inputs import MediaKind
from vidspec.core.requests import request_body
from vidspec.errors import (
    AmbiguousCreate,
    AuthError,
    BadRequest,
    DownloadExpired,
    RateLimited,
    RunwayError,
    ServerError,
    TaskNotFound,
    TransportError,
)
from vidspec.store.cache import LocalStore
from vidspec.store.journal import Journal, JournalEntry

DEFAULT_EXT = {"video": ".mp4", "image": ".png", "audio": ".mp3"}


@dataclass
class RunwayOptions:
    concurrency: int | None = None
    task_timeout: float = 600.0
    poll_scale: float = 1.0
    internal_retries: int = 2
    resubmit_lost: bool = False  # consent to resubmit a journaled task that the API no longer knows


class Budget:
    """Credits that count against the limit: charged, in flight, and possibly billed by a lost response."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.charged = 0
        self.in_flight: dict[str, int] = {}
        self.possibly_billed = 0

    @property
    def committed(self) -> int:
        return self.charged + sum(self.in_flight.values()) + self.possibly_billed

    def reserve(self, key: str, credits: int) -> bool:
        if not within_budget(self.committed + credits, self.limit):
            return False
        self.in_flight[key] = self.in_flight.get(key, 0) + credits
        return True

    def release(self, key: str) -> None:
        self.in_flight.pop(key, None)

    def settle(self, key: str, charged: int | None) -> None:
        estimate = self.in_flight.pop(key, 0)
        self.charged += estimate if charged is None else charged

    def describe(self) -> str:
        return (
            f"charged {self.charged}, in flight {sum(self.in_flight.values())}, possibly billed "
            f"{self.possibly_billed}, limit {self.limit:g}"
            if self.limit is not None
            else "no limit"
        )


def _say(emit: Emit, asset: Asset, state: str, **extra: Any) -> None:
    emit(
        {
            "event": "asset",
            "asset": asset.name,
            "scene": asset.scene_id,
            "state": state,
            "credits": asset.credits,
            **extra,
        }
    )


def _entry(
    key: str, asset: Asset, task_id: str | None, state: str = "submitted", note: str = ""
) -> JournalEntry:
    return JournalEntry(
        key, asset.name, asset.row.endpoint, asset.row.model, task_id, time.time(), asset.credits, state, note
    )


class RunwayProducer:
    backend = "runway"

    def __init__(
        self,
        client: RunwayClient,
        store: LocalStore,
        journal: Journal,
        org: Organization | None,
        options: RunwayOptions,
        budget: Budget,
    ) -> None:
        self.client = client
        self.store = store
        self.journal = journal
        self.org = org
        self.options = options
        self.budget = budget
        self._uris: dict[tuple[str, str], asyncio.Future[str]] = {}
        self._possibly: dict[str, int] = {}

    def limit_for(self, asset: Asset) -> int:
        limit = self.org.max_concurrent(asset.row.model) if self.org is not None else None
        limit = limit or 2
        if self.options.concurrency:
            limit = min(limit, self.options.concurrency)
        return limit

    async def produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        try:
            produced = await self._produce(asset, key, deps, emit, slot)
        except AssetFailed as exc:
            exc.possibly_billed = self._possibly.get(key, 0)
            raise
        produced.possibly_billed = self._possibly.get(key, 0)
        return produced

    async def _produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        task_id = await self._reattach(asset, key, emit)
        retries = 0
        while True:
            async with slot:  # a generation slot on Runway: from the create until the task is over
                fresh = task_id is None
                if task_id is None:
                    task_id = await self._submit(asset, key, deps, emit)
                task = await self._poll(asset, task_id, emit, fresh=fresh)
            charged = None if task.cost_credits is None else int(task.cost_credits)
            if task.status == "SUCCEEDED":
                self.budget.settle(key, charged)
                path = await self._download(asset, key, task, emit)
                return Produced(path, task.id, charged)
            self.budget.settle(key, charged)
            code = task.failure_code or task.status
            reason = task.failure or task.status.lower()
            if (
                task.status == "FAILED"
                and retryable_failure(code)
                and retries < self.options.internal_retries
            ):
                retries += 1
                _say(emit, asset, "retrying", message=f"{code}: {reason}")
                self.journal.remove(key)
                task_id = None
                continue
            self.journal.remove(key)
            hint = (
                " (moderation refused it; retrying the same request is pointless)"
                if code.startswith("SAFETY")
                else ""
            )
            raise AssetFailed(
                f"scene '{asset.scene_id}' {asset.kind}: {reason} [{code}]{hint}", charged=charged
            )

    async def _reattach(self, asset: Asset, key: str, emit: Emit) -> str | None:
        entry = self.journal.get(key)
        if entry is None:
            return None
        if entry.task_id is None:
            # A build died (or lost the answer) between sending the create and journaling its id:
            # the task may exist and be billed, and without an id it cannot be found again.
            self.budget.possibly_billed += entry.credits_estimated
            self._possibly[key] = self._possibly.get(key, 0) + entry.credits_estimated
            if not self.options.resubmit_lost:
                raise AssetFailed(
                    f"an earlier build stopped while the create for '{asset.name}' was in flight; "
                    "it may have been billed. Run again with --yes to submit it again"
                )
            _say(emit, asset, "ambiguous", message="an earlier create may have been billed; submitting again")
            self.journal.remove(key)
            return None
        try:
            await self.client.get_task(entry.task_id)
        except TaskNotFound:
            if not self.options.resubmit_lost:
                raise AssetFailed(
                    f"task {entry.task_id} for '{asset.name}' is gone from Runway (too old or deleted); "
                    "run the build again with --yes to resubmit it"
                ) from None
            _say(emit, asset, "resubmitting", message=f"task {entry.task_id} is gone; submitting again")
            self.journal.remove(key)
            return None
        self.budget.in_flight[key] = entry.credits_estimated
        _say(emit, asset, "reattached", task_id=entry.task_id)
        return entry.task_id

    async def _submit(self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit) -> str:
        for attempt in range(2):
            if not self.budget.reserve(key, asset.credits):
                raise AssetFailed(
                    f"not submitted: {asset.credits} more credits would cross the budget "
                    f"({self.budget.describe()})"
                )
            body = await self._request(asset, deps)
            _say(emit, asset, "submitting")
            # Intent first: a kill between sending and journaling the id must not pass unnoticed.
            self.journal.write(_entry(key, asset, None, "submitting"))
            try:
                task_id = await self.client.create(asset.row.endpoint, body)
            except AmbiguousCreate:
                # The request may have made (and billed) a task we cannot find: count it before retrying.
                self.budget.release(key)
                self.budget.possibly_billed += asset.credits
                self._possibly[key] = self._possibly.get(key, 0) + asset.credits
                self.journal.write(
                    _entry(key, asset, None, "ambiguous", "response lost after the request was sent")
                )
                _say(
                    emit,
                    asset,
                    "ambiguous",
                    message="the create's response was lost; it may have been billed",
                )
                if attempt == 0:
                    continue
                raise AssetFailed(
                    "the create request's response was lost twice; it may have been billed twice"
                ) from None
            except BadRequest as exc:
                self.budget.release(key)
                self.journal.remove(key)
                raise AssetFailed(f"the API refused scene '{asset.scene_id}' {asset.kind}: {exc}") from None
            except (RateLimited, ServerError, TransportError) as exc:
                self.budget.release(key)
                self.journal.remove(key)  # a refused create made no task
                raise AssetFailed(f"could not submit: {exc}") from None
            except RunwayError as exc:
                # An answer (401, 403, 404, ...) proves no task was made: drop the intent. The other assets
                # go on (cancelling them mid-send would leave their creates ambiguous).
                self.budget.release(key)
                self.journal.remove(key)
                raise AssetFailed(f"could not submit: {exc}") from None
            except BaseException:
                self.budget.release(key)  # cancelled mid-send: the intent stays, as possibly billed
                raise
            self.journal.write(_entry(key, asset, task_id))
            _say(emit, asset, "submitted", task_id=task_id)
            return task_id
        raise AssertionError("unreachable")

    async def _poll(self, asset: Asset, task_id: str, emit: Emit, *, fresh: bool) -> Task:
        schedule = PollSchedule(scale=self.options.poll_scale)
        start = time.monotonic()
        if fresh:  # a task just created is always still pending: wait before the first look
            await asyncio.sleep(schedule.next_delay(0.0))
        while True:
            elapsed = time.monotonic() - start
            try:
                task = await self.client.get_task(task_id)
            except (RateLimited, ServerError, TransportError):
                task = None  # transient: the task is journaled, keep polling
            except AuthError as exc:  # the task stays journaled: a later build with a good key re-attaches
                raise AssetFailed(f"task {task_id}: {exc}") from None
            except TaskNotFound:
                raise AssetFailed(f"task {task_id} disappeared while running") from None
            if task is not None:
                if task.is_over:
                    return task
                schedule.observe(elapsed, task.progress, task.status)
                _say(
                    emit,
                    asset,
                    DISPLAY.get(task.status, task.status.lower()),
                    progress=task.progress,
                    task_id=task_id,
                )
            if elapsed > self.options.task_timeout:
                raise AssetFailed(
                    f"timed out after {self.options.task_timeout:g} s; task {task_id} is journaled: "
                    "run the build again to re-attach to it"
                )
            await asyncio.sleep(schedule.next_delay(time.monotonic() - start))

    async def _download(self, asset: Asset, key: str, task: Task, emit: Emit) -> Path:
        _say(emit, asset, "downloading")
        for attempt in range(3):
            if not task.output:
                raise AssetFailed(f"task {task.id} succeeded without an output")
            url = task.output[0]
            ext = Path(urlparse(url).path).suffix.lower() or DEFAULT_EXT[asset.media]
            tmp = self.store.tmp_dir() / f"{key.split(':')[1][:16]}.{uuid.uuid4().hex[:8]}{ext}"
            try:
                await self.client.download(url, tmp)
                return tmp
            except DownloadExpired:
                tmp.unlink(missing_ok=True)
                if attempt == 2:
                    raise AssetFailed(f"the output URL of task {task.id} keeps expiring") from None
                task = await self.client.get_task(task.id)  # fresh URLs
            except (ServerError, TransportError, RateLimited) as exc:
                tmp.unlink(missing_ok=True)
                if attempt == 2:
                    raise AssetFailed(f"download failed: {exc}") from None
        raise AssertionError("unreachable")

    async def _request(self, asset: Asset, deps: Mapping[str, Path]) -> dict[str, Any]:
        """The create body, each input uploaded (or inlined) first, as the media kind its ref says."""
        uris: dict[Input, str] = {}
        for _, ref in asset.inputs():
            if ref not in uris:
                uris[ref] = await self._input_uri(ref, deps)
        return request_body(asset, uris.__getitem__)

    async def _input_uri(self, ref: Input, deps: Mapping[str, Path]) -> str:
        if isinstance(ref, AssetRef):
            return await self._uri(deps[ref.name], ref.media)
        if ref.path is None:
            assert ref.url is not None
            return ref.url  # a URL goes as written
        return await self._uri(ref.path, ref.media)

    async def _uri(self, path: Path, kind: MediaKind) -> str:
        memo = (str(path), kind)
        if memo not in self._uris:
            self._uris[memo] = asyncio.ensure_future(self.client.input_uri(path, kind))
        return await self._uris[memo]
