"""The paid backend: submit each asset to Runway, journal its task id before polling, download the output.

Never pays twice for one request: a journaled task is re-attached by id; a create whose response was lost
is counted as possibly billed, for good, and sent again only with --resubmit-ambiguous; the budget counts
finished, in-flight and possibly-billed work (this spec's earlier runs too) before each submission.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from vidspec.backends.executor import AssetFailed, Emit, Produced
from vidspec.backends.runway.client import Organization, RunwayClient, Task
from vidspec.backends.runway.tasks import DISPLAY, PollSchedule, retryable_failure
from vidspec.core.budget import Attempt, Limits, Spend, refusal, tally
from vidspec.core.graph import Asset, AssetRef, Input, Still
from vidspec.core.inputs import MediaKind
from vidspec.core.requests import request_body
from vidspec.errors import (
    AmbiguousCreate,
    AuthError,
    BadRequest,
    DownloadExpired,
    OutputExpired,
    RateLimited,
    RunwayError,
    ServerError,
    TaskNotFound,
    TransportError,
)
from vidspec.store.cache import LocalStore, Record
from vidspec.store.journal import Journal, JournalEntry
from vidspec.store.spend import SpendLog

DEFAULT_EXT = {"video": ".mp4", "image": ".png", "audio": ".mp3"}


@dataclass
class RunwayOptions:
    concurrency: int | None = None
    task_timeout: float = 600.0
    poll_scale: float = 1.0
    internal_retries: int = 2
    resubmit_lost: bool = False  # consent to resubmit a journaled task that the API no longer knows
    # --resubmit-ambiguous: send again a create that may already have been billed (its answer was lost, or a
    # run died with it on the wire). Consent to spend (--yes) is not enough: that pays twice where nobody looks.
    resubmit_ambiguous: bool = False


class Budget:
    """Credits that count against the limits: charged, in flight, and possibly billed by a lost response.

    Two limits (vidspec/core/budget.py): ``limit`` is this run's cap (--max-credits), against what this run
    commits; ``budget`` is the spec's, against everything this spec's builds have committed, earlier runs
    included. Each create is an Attempt, written to the spec's spend record (``log``) before it is sent and at
    each step after, so a kill at any moment leaves it counted, once.
    """

    def __init__(
        self,
        limit: float | None = None,
        *,
        budget: float | None = None,
        log: SpendLog | None = None,
        attempts: Iterable[Attempt] = (),
        run: str | None = None,
    ) -> None:
        self.limits = Limits(budget, limit)
        self.log = log
        self.run = run or uuid.uuid4().hex
        self.attempts: dict[str, Attempt] = {a.id: a for a in attempts}
        self._open: dict[str, str] = {}  # asset key -> the attempt its create is on now

    @property
    def limit(self) -> float | None:
        return self.limits.max_credits

    @property
    def spent(self) -> Spend:
        """Everything counted for this spec: earlier runs and this one."""
        return tally(self.attempts.values(), self.run)

    @property
    def this_run(self) -> Spend:
        return tally((a for a in self.attempts.values() if a.run == self.run), self.run)

    @property
    def charged(self) -> int:
        return self.this_run.charged

    @property
    def in_flight(self) -> int:
        return self.this_run.in_flight

    @property
    def possibly_billed(self) -> int:
        return self.this_run.possibly_billed

    @property
    def committed(self) -> int:
        """What this run has committed (the part --max-credits caps)."""
        return self.this_run.total

    def why_not(self, credits: int) -> str | None:
        """Why ``credits`` more may not be committed now, or None."""
        return refusal(self.limits, self.spent.total, self.committed, credits)

    def reserve(self, key: str, credits: int, name: str = "") -> bool:
        """Before a create is sent: within both limits, written down as being sent (possibly billed if the run
        dies now)."""
        if self.why_not(credits) is not None:
            return False
        attempt = Attempt(
            uuid.uuid4().hex, key, name or key, self.run, credits, "sending", at=round(time.time(), 3)
        )
        self._put(attempt)
        self._open[key] = attempt.id
        return True

    def attempt(self, key: str) -> Attempt | None:
        return self.attempts.get(self._open.get(key, ""))

    def submitted(self, key: str, task_id: str, api_estimate: int | None) -> None:
        self._update(key, state="submitted", task_id=task_id, credits_api_estimate=api_estimate)

    def lost(self, key: str) -> int:
        """The create's answer was lost (or its task vanished): possibly billed, for good. Returns its credits."""
        attempt = self._update(key, state="ambiguous")
        self._open.pop(key, None)
        return 0 if attempt is None else attempt.counted

    def release(self, key: str) -> None:
        """The API answered the create with an error: no task was made."""
        self._update(key, state="refused")
        self._open.pop(key, None)

    def settle(self, key: str, charged: int | None) -> None:
        """The task is over: its cost (None: unknown, counted at its estimate). Idempotent across runs."""
        self._update(key, state="charged", credits_charged=charged)
        self._open.pop(key, None)

    def adopt(self, key: str, entry: JournalEntry) -> Attempt:
        """A create that an earlier run journaled: its attempt (by id, else by task id), or one written now for
        a journal the record does not know. Counted once, in the spend of the run that sent it."""
        found = self.attempts.get(entry.attempt) if entry.attempt else None
        if found is None and entry.task_id:
            found = next((a for a in self.attempts.values() if a.task_id == entry.task_id), None)
        if found is None:
            found = Attempt(
                entry.attempt or uuid.uuid4().hex, key, entry.name, "journal", entry.credits_estimated,
                "submitted" if entry.task_id else "ambiguous", entry.task_id, entry.credits_api_estimate,
                at=entry.submitted_at,
            )  # fmt: skip
            self._put(found)
        elif entry.task_id and found.task_id is None:  # killed between journaling the id and recording it
            found = replace(found, state="submitted", task_id=entry.task_id)
            self._put(found)
        self._open[key] = found.id
        return found

    def forget(self, key: str) -> None:
        """Stop following the key's attempt; it stays counted as it is."""
        self._open.pop(key, None)

    def _update(self, key: str, **changes: Any) -> Attempt | None:
        attempt = self.attempt(key)
        if attempt is not None:
            attempt = replace(attempt, **changes)
            self._put(attempt)
        return attempt

    def _put(self, attempt: Attempt) -> None:
        self.attempts[attempt.id] = attempt
        if self.log is not None:
            self.log.put(attempt)


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
    key: str,
    asset: Asset,
    task_id: str | None,
    state: str = "submitted",
    note: str = "",
    *,
    attempt: Attempt | None = None,
    api_estimate: int | None = None,
) -> JournalEntry:
    return JournalEntry(
        key, asset.name, asset.row.endpoint, asset.row.model, task_id, time.time(), asset.credits, state, note,
        attempt.id if attempt is not None else "", api_estimate,
    )  # fmt: skip


def _credits(value: float | None) -> int | None:
    return None if value is None else math.ceil(value)


# Where a wire path of an asset's request was written in the spec: "file:line:col: scenes[0].image".
Locate = Callable[[Asset, Sequence[str | int]], str]


def wire_text(path: Sequence[str | int]) -> str:
    """["promptImage", 0, "uri"] -> "promptImage[0].uri", as the API's docs write it."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


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
        locate: Locate | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.journal = journal
        self.org = org
        self.options = options
        self.budget = budget
        self.locate = locate
        self._uris: dict[tuple[str, str], asyncio.Future[str]] = {}
        self._possibly: dict[str, int] = {}
        self._api_estimates: dict[str, int | None] = {}
        # assets stopped because their create may already be billed (no --resubmit-ambiguous): name -> credits
        self.held: dict[str, int] = {}

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
        produced.credits_api_estimate = self._api_estimates.get(key)
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
        attempt = self.budget.adopt(key, entry)  # counted once, in the run that sent it
        if entry.task_id is None:
            # A build died (or lost the answer) between sending the create and journaling its id:
            # the task may exist and be billed, and without an id it cannot be found again.
            at_stake = attempt.counted
            self._possibly[key] = self._possibly.get(key, 0) + at_stake
            self.budget.forget(key)
            if not self.options.resubmit_ambiguous:
                self.held[asset.name] = at_stake
                raise AssetFailed(
                    f"'{asset.name}' was not sent again: an earlier create for it may already have been billed "
                    f"({at_stake} credits at stake). Check the Runway dashboard, then run again with "
                    "--resubmit-ambiguous to submit it again"
                )
            _say(emit, asset, "ambiguous", message="an earlier create may have been billed; submitting again")
            self.journal.remove(key)
            return None
        self._api_estimates[key] = entry.credits_api_estimate
        try:
            await self.client.get_task(entry.task_id)
        except TaskNotFound:
            self._possibly[key] = self._possibly.get(key, 0) + self.budget.lost(key)  # its cost is unknowable
            if not self.options.resubmit_lost:
                raise AssetFailed(
                    f"task {entry.task_id} for '{asset.name}' is gone from Runway (too old or deleted); "
                    "run the build again with --yes to resubmit it"
                ) from None
            _say(emit, asset, "resubmitting", message=f"task {entry.task_id} is gone; submitting again")
            self.journal.remove(key)
            return None
        _say(emit, asset, "reattached", task_id=entry.task_id)
        return entry.task_id

    async def _submit(self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit) -> str:
        for attempt_no in range(2):
            why = self.budget.why_not(asset.credits)
            if why is not None:
                raise AssetFailed(f"not submitted: {why}")
            body = await self._request(asset, deps)  # uploads first: nothing is reserved for a failed upload
            if not self.budget.reserve(key, asset.credits, asset.name):  # written down before it is sent
                raise AssetFailed(f"not submitted: {self.budget.why_not(asset.credits)}")
            attempt = self.budget.attempt(key)
            _say(emit, asset, "submitting")
            # Intent first: a kill between sending and journaling the id must not pass unnoticed.
            self.journal.write(_entry(key, asset, None, "submitting", attempt=attempt))
            try:
                created = await self.client.create_task(asset.row.endpoint, body)
            except AmbiguousCreate:
                # The request may have made (and billed) a task we cannot find: counted for good.
                at_stake = self.budget.lost(key)
                self._possibly[key] = self._possibly.get(key, 0) + at_stake
                lost = "response lost after the request was sent"
                self.journal.write(_entry(key, asset, None, "ambiguous", lost, attempt=attempt))
                _say(emit, asset, "ambiguous", message="its answer was lost; it may have been billed")
                if not self.options.resubmit_ambiguous:
                    self.held[asset.name] = self.held.get(asset.name, 0) + at_stake
                    raise AssetFailed(
                        f"the create for '{asset.name}' lost its response, so it may already have been billed "
                        f"({at_stake} credits at stake); it was not sent again. Check the Runway dashboard, "
                        "then run again with --resubmit-ambiguous to submit it again"
                    ) from None
                if attempt_no == 0:
                    continue
                raise AssetFailed(
                    "the create request's response was lost twice; it may have been billed twice"
                ) from None
            except BadRequest as exc:
                self.budget.release(key)
                self.journal.remove(key)
                raise AssetFailed(
                    f"the API refused scene '{asset.scene_id}' {asset.kind}: {exc}{self._issues(asset, exc)}"
                ) from None
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
            # Cancelled mid-send (a BaseException): the intent and the attempt stay, as possibly billed.
            api_estimate = _credits(created.estimated_credits)
            self._api_estimates[key] = api_estimate
            self.journal.write(_entry(key, asset, created.id, attempt=attempt, api_estimate=api_estimate))
            self.budget.submitted(key, created.id, api_estimate)
            _say(emit, asset, "submitted", task_id=created.id, credits_api_estimate=api_estimate)
            if api_estimate is not None and api_estimate != asset.credits:
                emit(
                    {
                        "event": "warning",
                        "asset": asset.name,
                        "scene": asset.scene_id,
                        "credits_estimated": asset.credits,
                        "credits_api_estimate": api_estimate,
                        "message": f"Runway estimates {api_estimate} credits for '{asset.name}'; "
                        f"vidspec's catalogue says {asset.credits}",
                    }
                )
            return created.id
        raise AssertionError("unreachable")

    def _issues(self, asset: Asset, exc: BadRequest) -> str:
        """The 400's issues, each at the spec field (and line) it is about."""
        parts = []
        for issue in exc.issues:
            sent = f" (sent as {wire_text(issue.path)})" if issue.path else ""
            if self.locate is not None:
                parts.append(f"; {self.locate(asset, issue.path)}: {issue.message}{sent}")
            else:
                parts.append(f"; {wire_text(issue.path) or 'body'}: {issue.message}")
        return "".join(parts)

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
                    raise OutputExpired(f"the output URL of task {task.id} keeps expiring") from None
                task = await self.client.get_task(task.id)  # fresh URLs
            except (ServerError, TransportError, RateLimited) as exc:
                tmp.unlink(missing_ok=True)
                if attempt == 2:
                    raise AssetFailed(f"download failed: {exc}") from None
        raise AssertionError("unreachable")

    async def refetch(
        self,
        asset: Asset,
        key: str,
        record: Record,
        deps: Mapping[str, Path],
        emit: Emit,
        slot: asyncio.Semaphore,
    ) -> Produced:
        """A cached output again, from its recorded task's fresh URLs (GET /v1/tasks/{id}): free, no slot,
        never a create. A task that is gone (404, or an output that keeps expiring) is remembered in the store,
        so the next plan prices a new create; this build does not pay for one nobody planned."""
        task_id = record.task_id
        again = (
            f"its output must be generated again ({asset.credits} credits): `vidspec plan` prices it, "
            "and the next build spends only with consent"
        )
        if task_id is None:
            raise AssetFailed(
                f"no task id is recorded for '{asset.name}', so its file cannot be fetched again"
            )
        try:
            task = await self.client.get_task(task_id)
            if task.status != "SUCCEEDED":
                raise AssetFailed(f"task {task_id} for '{asset.name}' is {task.status}, not SUCCEEDED")
            if not task.output:
                raise OutputExpired(f"task {task_id} has no output any more")
            path = await self._download(asset, key, task, emit)
        except (TaskNotFound, OutputExpired):
            with contextlib.suppress(OSError):  # a read-only cache: the next plan asks the API again
                self.store.mark_task_gone(key, task_id)
            raise AssetFailed(
                f"the cached file of '{asset.name}' cannot be fetched again: task {task_id} or its output is "
                f"gone from Runway (too old or deleted); {again}"
            ) from None
        except RunwayError as exc:  # the key, the network: the task may still be there next time
            raise AssetFailed(f"could not fetch task {task_id} for '{asset.name}' again: {exc}") from None
        return Produced(path, task_id, record.credits_charged, note=f"fetched again from task {task_id}")

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
        if isinstance(ref, Still):  # the frame the executor extracted from the clip
            return await self._uri(deps[ref.label], ref.media)
        if ref.path is None:
            assert ref.url is not None
            return ref.url  # a URL goes as written
        return await self._uri(ref.path, ref.media)

    async def _uri(self, path: Path, kind: MediaKind) -> str:
        memo = (str(path), kind)
        if memo not in self._uris:
            self._uris[memo] = asyncio.ensure_future(self.client.input_uri(path, kind))
        return await self._uris[memo]
