"""The typed async Runway HTTP client: one method per operation, HTTP status -> errors.py, and retries.

The transport is injected (``transport=httpx.MockTransport(...)`` in tests, the fake server in integration tests),
so nothing here monkeypatches the network.

Retry rules (the API takes no idempotency key, so a create is special):

* reads, deletes, uploads and downloads are retried on 408, 409, 429, 5xx and any network failure;
* a create is retried only when it is certain no task was made: a connection that failed before the request left
  (ConnectError, ConnectTimeout, PoolTimeout) or a 408/409/429/500/502/503 *answer*. When the request was sent and
  the answer was lost (read timeout, dropped connection, a 504 gateway timeout) it raises AmbiguousCreate and is
  never sent again: the official SDK resends it and can bill twice.

The API key goes only to the API's base URL: upload URLs and output URLs are other hosts and get no
Authorization header. The key is kept in a wrapper whose repr hides it, and scrubbed from any text the API echoes.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import quote, urlsplit

import httpx

from vidspec import __version__
from vidspec.backends.runway.config import BASE_URL_ENV, DEFAULT_BASE_URL, KEY_ENV, RunwayConfig, Secret
from vidspec.backends.runway.tasks import TERMINAL
from vidspec.core.catalog import API_VERSION as CATALOG_API_VERSION
from vidspec.core.catalog import DATA_URI_LIMIT as CATALOG_DATA_URI_LIMIT
from vidspec.core.catalog import MIME_TYPES, Endpoint, fits_data_uri
from vidspec.errors import (
    AmbiguousCreate,
    ApiIssue,
    AuthError,
    BadRequest,
    ConfigError,
    DownloadExpired,
    RateLimited,
    RunwayError,
    ServerError,
    TaskNotFound,
    TransportError,
    VidspecError,
    WriteError,
)

__all__ = [
    "API_VERSION",
    "DATA_URI_LIMIT",
    "Created",
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "Organization",
    "RetryEvent",
    "RetryPolicy",
    "RunwayClient",
    "Task",
    "mime_type",
    "parse_retry_after",
]

API_VERSION = CATALOG_API_VERSION  # one source: the cache key includes it too
# A base64 data URI may be at most 5 MB long; larger files go through an ephemeral upload. Read at call time,
# so tests can lower it with monkeypatch instead of writing 5 MB files.
DATA_URI_LIMIT = CATALOG_DATA_URI_LIMIT
DOWNLOAD_CHUNK = 1024 * 1024

ENDPOINTS = frozenset(get_args(Endpoint))

# Answers that mean "the server did not act on it; the same request may succeed later".
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
# Answers to a create that do NOT prove no task was made: a gateway timeout means a proxy gave up waiting
# for the origin, which may still have made (and billed) the task.
CREATE_AMBIGUOUS_STATUSES = frozenset({504})
# Output-URL answers that mean "expired": retrying the same URL is pointless.
EXPIRED_STATUSES = frozenset({403, 404, 410})

# Failures that happen before any byte of the request left: safe to resend anything, a create included.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

T = TypeVar("T")
SleepFn = Callable[[float], Awaitable[None]]


# ---------------------------------------------------------------------------------------------- retry policy


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # older Pythons return None instead of raising
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retry_after(response: httpx.Response) -> float | None:
    # retry-after-ms is what the official SDKs read first; Retry-After is the standard header.
    ms = response.headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    return parse_retry_after(response.headers.get("retry-after"))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, overridden by the server's ``Retry-After``.

    A hand-written loop (RunwayClient._retrying) rather than tenacity or stamina: what may be retried depends on
    the operation (a create vs. a read) and on whether the request left, which is decided where the response or
    exception is classified; the wait must come from the failed answer's Retry-After; and stamina's jitter is
    additive, not full. Both libraries can be bent to this (custom wait reading the outcome, result predicates),
    but the result is longer than these dozen lines and adds a dependency.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: bool = True
    # A longer Retry-After (a daily generation limit answers 429 for hours) is not waited out: the client gives
    # up at once and raises with ``retry_after`` set, so the caller can tell the user when to come back.
    max_retry_after: float = 60.0

    @classmethod
    def fast(cls) -> RetryPolicy:
        """For tests: the same rules with millisecond backoff (a Retry-After is still honoured)."""
        return cls(max_retries=4, base_delay=0.001, max_delay=0.004, jitter=False)

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(max_retries=0)

    def delay(self, retries_taken: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number ``retries_taken + 1``; None means do not retry."""
        if retries_taken >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_delay, self.base_delay * (2**retries_taken))
        return random.uniform(0.0, ceiling) if self.jitter else ceiling


@dataclass(frozen=True)
class RetryEvent:
    """Reported to ``on_retry`` before each wait: for progress displays and for tests."""

    operation: str
    retries_taken: int
    delay: float
    error: RunwayError


# ---------------------------------------------------------------------------------------------- response models


def _get(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _num(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Task:
    """A task as GET /v1/tasks/{id} returns it, read leniently: unknown fields are ignored, missing ones None.

    ``status`` is one of PENDING, THROTTLED, RUNNING, SUCCEEDED, FAILED, CANCELLED (kept as given if the API
    adds another). ``raw`` is the JSON as received, for the build journal.
    """

    id: str
    status: str
    progress: float | None = None
    output: tuple[str, ...] = ()
    failure: str | None = None
    failure_code: str | None = None
    estimated_credits: float | None = None
    cost_credits: float | None = None
    created_at: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_over(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_json(cls, data: Mapping[str, Any], task_id: str = "") -> Task:
        output = data.get("output")
        return cls(
            id=_str(data.get("id")) or task_id,
            status=(_str(data.get("status")) or "PENDING").upper(),
            progress=_num(data.get("progress")),
            output=tuple(u for u in output if isinstance(u, str)) if isinstance(output, list) else (),
            failure=_str(data.get("failure")),
            failure_code=_str(data.get("failureCode")),
            estimated_credits=_num(_get(data, "estimatedCost", "credits")),
            cost_credits=_num(_get(data, "cost", "credits")),
            created_at=_str(data.get("createdAt")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Created:
    """A create's answer: the task id and ``estimatedCost.credits``, the most the task may charge (or None)."""

    id: str
    estimated_credits: float | None = None


@dataclass(frozen=True)
class Organization:
    """GET /v1/organization: the balance and per-model limits a build checks before it spends."""

    credit_balance: float | None
    max_monthly_credit_spend: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Organization:
        return cls(
            credit_balance=_num(data.get("creditBalance")),
            max_monthly_credit_spend=_num(_get(data, "tier", "maxMonthlyCreditSpend")),
            raw=dict(data),
        )

    def max_concurrent(self, model: str) -> int | None:
        """None means no limit (or the model is not listed)."""
        return _int(_get(self.raw, "tier", "models", model, "maxConcurrentGenerations"))

    def max_daily(self, model: str) -> int | None:
        """None means no limit (or the model is not listed)."""
        return _int(_get(self.raw, "tier", "models", model, "maxDailyGenerations"))

    def daily_generations(self, model: str) -> int:
        """Generations of ``model`` so far today; 0 when the model has no usage entry."""
        return _int(_get(self.raw, "usage", "models", model, "dailyGenerations")) or 0


# ---------------------------------------------------------------------------------------------- helpers


def mime_type(path: Path) -> str | None:
    """The MIME type the API expects for a local input, from the extension; None when unsupported."""
    return MIME_TYPES.get(path.suffix.lower())


def _short_url(url: str) -> str:
    # Output and upload URLs are signed: the query string is a credential of its own, keep it out of messages.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path


def _api_message(response: httpx.Response) -> str:
    """The API's own words: JSON ``error`` or ``message`` (string or nested), else the body text."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, Mapping):
        for key in ("error", "message"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping) and isinstance(value.get("message"), str):
                return str(value["message"])
        issues = data.get("issues")
        if isinstance(issues, list) and issues:
            return json.dumps(issues)[:500]
    text = response.text.strip()
    return text[:500] if text else f"HTTP {response.status_code} with an empty body"


def _api_issues(response: httpx.Response, scrub: Callable[[str], str]) -> tuple[ApiIssue, ...]:
    """A 400's ``issues`` ([{code, path, message}]; may be absent), read leniently: malformed entries are skipped."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return ()
    issues = data.get("issues") if isinstance(data, Mapping) else None
    found: list[ApiIssue] = []
    for item in issues if isinstance(issues, list) else ():
        if not isinstance(item, Mapping) or not isinstance(item.get("message"), str):
            continue
        path = item.get("path")
        parts = path if isinstance(path, list) else []
        wire = tuple(p for p in parts if isinstance(p, (str, int)) and not isinstance(p, bool))
        found.append(ApiIssue(_str(item.get("code")), wire, scrub(item["message"])))
    return tuple(found)


# ---------------------------------------------------------------------------------------------- the client


class RunwayClient:
    """An async context manager over ``httpx.AsyncClient``::

    async with RunwayClient.from_config(RunwayConfig.from_env()) as rw:
        task_id = await rw.create("text_to_video", body)
        task = await rw.get_task(task_id)
    """

    def __init__(
        self,
        api_key: str | Secret,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        sleep: SleepFn | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        if not self._key.reveal():
            raise ConfigError(f"{KEY_ENV} is not set")
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.retry = retry
        self._sleep: SleepFn = sleep or asyncio.sleep
        self._on_retry = on_retry
        # No default headers: the key is attached per API request so it never reaches upload or output hosts.
        self._http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout))

    @classmethod
    def from_config(
        cls,
        config: RunwayConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        sleep: SleepFn | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> RunwayClient:
        """Raises ConfigError when the key is not set or cannot go in a header (without echoing it)."""
        return cls(
            config.require_key(),
            config.base_url,
            transport=transport,
            retry=retry,
            timeout=timeout,
            sleep=sleep,
            on_retry=on_retry,
        )

    @classmethod
    def from_env(
        cls,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        sleep: SleepFn | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> RunwayClient:
        return cls.from_config(
            RunwayConfig.from_env(),
            transport=transport,
            retry=retry,
            timeout=timeout,
            sleep=sleep,
            on_retry=on_retry,
        )

    def __repr__(self) -> str:
        return f"RunwayClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> RunwayClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------------------------------ operations

    async def create(self, endpoint: str, body: Mapping[str, Any]) -> str:
        """POST /v1/{endpoint}; returns the new task's id. Never resent once it may have reached the server."""
        return (await self.create_task(endpoint, body)).id

    async def create_task(self, endpoint: str, body: Mapping[str, Any]) -> Created:
        """POST /v1/{endpoint}: the new task's id and the API's estimatedCost (the most it may charge)."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown Runway endpoint {endpoint!r}")
        data = await self._api("POST", f"/v1/{endpoint}", json_body=body, create=endpoint)
        task_id = _get(data, "id")
        if not isinstance(task_id, str) or not task_id:
            # The server answered 2xx, so it probably made a task; without its id we cannot find it.
            raise AmbiguousCreate(endpoint, 0.0, "the answer carried no task id")
        return Created(task_id, _num(_get(data, "estimatedCost", "credits")))

    async def get_task(self, task_id: str) -> Task:
        data = await self._api("GET", self._task_path(task_id), task_id=task_id)
        if not isinstance(data, Mapping):
            raise RunwayError(f"GET /v1/tasks/{task_id} answered something that is not a task")
        return Task.from_json(data, task_id)

    async def delete_task(self, task_id: str) -> None:
        """Cancels a running task or deletes a finished one."""
        await self._api("DELETE", self._task_path(task_id), task_id=task_id)

    async def organization(self) -> Organization:
        data = await self._api("GET", "/v1/organization")
        if not isinstance(data, Mapping):
            raise RunwayError("GET /v1/organization answered something that is not an organization")
        return Organization.from_json(data)

    async def upload(self, path: Path) -> str:
        """An ephemeral upload for files too large for a data URI; returns the ``runway://`` URI to send."""
        data = await self._api("POST", "/v1/uploads", json_body={"filename": path.name, "type": "ephemeral"})
        upload_url, fields, runway_uri = (
            _get(data, "uploadUrl"),
            _get(data, "fields"),
            _get(data, "runwayUri"),
        )
        if not isinstance(upload_url, str) or not isinstance(runway_uri, str):
            raise RunwayError("POST /v1/uploads answered without uploadUrl or runwayUri")
        form = {str(k): str(v) for k, v in fields.items()} if isinstance(fields, Mapping) else {}
        mime = mime_type(path) or "application/octet-stream"

        async def attempt() -> None:
            # Reopened on every attempt so a retry sends the whole file again. Fields go before the file, as
            # presigned POST forms require (httpx writes data fields first).
            with path.open("rb") as fh:
                request = self._http.build_request(
                    "POST", upload_url, data=form, files={"file": (path.name, fh, mime)}
                )
                response = await self._send(request, operation=f"upload {path.name}")
                if response.is_success:
                    return
                raise self._status_error(
                    response, f"upload of {path.name} to {_short_url(upload_url)}", api=False
                )

        await self._retrying(f"upload {path.name}", attempt)
        return runway_uri

    async def input_uri(self, path: Path, kind: Literal["image", "video", "audio"]) -> str:
        """A local file as an input string: a data URI up to DATA_URI_LIMIT bytes, an upload URI above it."""
        mime = mime_type(path)
        if mime is None or not mime.startswith(f"{kind}/"):
            known = ", ".join(sorted(e for e, m in MIME_TYPES.items() if m.startswith(f"{kind}/")))
            raise VidspecError(f"{path}: not a supported {kind} file (use one of {known})")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise VidspecError(f"{path}: cannot read the file ({exc.strerror})") from None
        if not fits_data_uri(size, mime, limit=DATA_URI_LIMIT):
            return await self.upload(path)
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    async def download(self, url: str, dest: Path) -> int:
        """Streams an output URL to ``dest`` (a temp path the caller renames); returns the bytes written.

        The whole file is fetched again on a retry. On failure ``dest`` is removed, so a partial file never
        looks like a result.
        """
        shown = _short_url(url)

        async def attempt() -> int:
            try:
                async with self._http.stream("GET", url, follow_redirects=True) as response:
                    if response.status_code in EXPIRED_STATUSES:
                        raise DownloadExpired(shown, response.status_code)
                    if not response.is_success:
                        await response.aread()
                        raise self._status_error(response, f"download of {shown}", api=False)
                    written = 0
                    try:
                        with dest.open("wb") as fh:
                            async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                                fh.write(chunk)
                                written += len(chunk)
                            fh.flush()
                            os.fsync(fh.fileno())
                    except OSError as exc:  # a full disk or an unwritable cache: not worth a retry
                        raise WriteError(dest, exc) from None
                    # A short body is a transient failure, not a result. Content-Length counts encoded bytes, so
                    # the check only applies when the body was not content-encoded.
                    expected = response.headers.get("content-length")
                    identity = response.headers.get("content-encoding", "identity").lower() == "identity"
                    if identity and expected is not None and expected.isdigit() and int(expected) != written:
                        raise TransportError(
                            f"download of {shown} stopped after {written} of {expected} bytes",
                            sent=True,
                            retryable=True,
                        )
                    return written
            except httpx.TransportError as exc:
                raise self._transport_error(exc, f"download of {shown}", idempotent=True) from exc

        try:
            return await self._retrying(f"download {shown}", attempt)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise

    # ------------------------------------------------------------------------------------------ machinery

    @staticmethod
    def _task_path(task_id: str) -> str:
        return f"/v1/tasks/{quote(task_id, safe='')}"

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key.reveal()}",
            "X-Runway-Version": API_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"vidspec/{__version__}",
        }

    def _scrub(self, text: str) -> str:
        key = self._key.reveal()
        return text.replace(key, "<secret>") if key else text

    async def _api(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        create: str | None = None,
        task_id: str | None = None,
    ) -> object:
        """One API call with retries; returns the decoded JSON body (None when empty)."""
        operation = f"{method} {path}"
        content = json.dumps(json_body).encode() if json_body is not None else None

        async def attempt() -> object:
            request = self._http.build_request(
                method, self.base_url + path, headers=self._headers(), content=content
            )
            started = time.monotonic()
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                if create is not None and not isinstance(exc, _NOT_SENT):
                    # Sent, answer lost: the server may have made the task. Never resend (see module doc).
                    raise AmbiguousCreate(create, time.monotonic() - started, type(exc).__name__) from exc
                raise self._transport_error(exc, operation, idempotent=create is None, api=True) from exc
            if response.is_success:
                if not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    if create is not None:
                        raise AmbiguousCreate(
                            create, time.monotonic() - started, "unreadable answer"
                        ) from None
                    raise RunwayError(
                        f"{operation} answered {response.status_code} with a body that is not JSON"
                    ) from None
            if create is not None and response.status_code in CREATE_AMBIGUOUS_STATUSES:
                raise AmbiguousCreate(create, time.monotonic() - started, f"HTTP {response.status_code}")
            raise self._status_error(response, operation, api=True, task_id=task_id)

        return await self._retrying(operation, attempt)

    async def _send(self, request: httpx.Request, *, operation: str) -> httpx.Response:
        """Send a non-API request (upload host), translating network failures; those are all resendable."""
        try:
            return await self._http.send(request)
        except httpx.TransportError as exc:
            raise self._transport_error(exc, operation, idempotent=True) from exc

    def _transport_error(
        self, exc: httpx.TransportError, operation: str, *, idempotent: bool, api: bool = False
    ) -> VidspecError:
        """``api``: a call to the API's base URL (not an upload or output host). A create whose answer was lost
        never comes here (AmbiguousCreate), so no API call that does is one that can have been charged."""
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ConfigError(f"{operation}: unsupported URL scheme; check {BASE_URL_ENV}")
        sent = not isinstance(exc, _NOT_SENT)
        # LocalProtocolError: we could not even form the request, resending cannot help.
        retryable = (not sent or idempotent) and not isinstance(exc, httpx.LocalProtocolError)
        detail = self._scrub(str(exc)) or type(exc).__name__
        if api and not sent:
            message = (
                f"{operation}: cannot reach the Runway API at {self.base_url} ({detail}); the request was "
                f"not sent, so nothing was charged. Check the network, and {BASE_URL_ENV} if you set it "
                f"(the default is {DEFAULT_BASE_URL})"
            )
        elif api:
            message = (
                f"{operation}: the connection to the Runway API at {self.base_url} failed after the request "
                f"was sent ({detail}); nothing was charged for it"
            )
        else:
            where = "after the request was sent" if sent else "before the request was sent"
            message = f"{operation}: network failure {where}: {detail}"
        return TransportError(message, sent=sent, retryable=retryable)

    def _status_error(
        self, response: httpx.Response, operation: str, *, api: bool, task_id: str | None = None
    ) -> RunwayError:
        """Map a non-2xx answer to the error tree. ``api`` is False for upload and output hosts, whose 400s
        and 401s are not about our request body or key."""
        status = response.status_code
        message = self._scrub(_api_message(response))
        retry_after = _retry_after(response)
        if api and status == 400:
            return BadRequest(message, issues=_api_issues(response, self._scrub))
        if api and status == 401:
            return AuthError()
        if status == 404 and task_id is not None:
            return TaskNotFound(task_id)
        if status == 429:
            wait = f"; retry after {retry_after:.0f}s" if retry_after is not None else ""
            return RateLimited(
                f"{operation}: rate limited (HTTP 429): {message}{wait}", status=429, retry_after=retry_after
            )
        if status >= 500:
            return ServerError(
                f"{operation}: Runway server error (HTTP {status}): {message}",
                status=status,
                retry_after=retry_after,
            )
        return RunwayError(
            f"{operation}: HTTP {status}: {message}",
            status=status,
            retryable=status in RETRY_STATUSES,
            retry_after=retry_after,
        )

    async def _retrying(self, operation: str, attempt: Callable[[], Awaitable[T]]) -> T:
        # The whole retry loop. Each attempt raises an error already classified (retryable or not), so the
        # loop only decides how long to wait; see RetryPolicy for why this is not tenacity or stamina.
        retries = 0
        while True:
            try:
                return await attempt()
            except RunwayError as exc:
                delay = self.retry.delay(retries, exc.retry_after) if exc.retryable else None
                if delay is None:
                    exc.retries_taken = retries
                    raise
                if self._on_retry is not None:
                    self._on_retry(RetryEvent(operation, retries, delay, exc))
                await self._sleep(delay)
                retries += 1
