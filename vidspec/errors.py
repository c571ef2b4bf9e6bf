"""Operations that failed. A mistake in a spec is a Diagnostic (a value); an exception means the environment failed.

The tree (``*`` base, ``x`` leaf or branch, ``+`` Runway leaf)::

    * VidspecError                 exit 1; ``message``; str() is the message
      x SpecError                  the spec has errors; carries ``diagnostics`` (the core's Diagnostic objects)
      x ConfigError                bad environment: RUNWAYML_API_SECRET missing, a directory not writable
      x BudgetExceeded             the build would spend more than the budget allows
      x ConsentRequired            spending needs an explicit yes (--yes) that was not given
      x LockedError                a --locked build would need to generate something
      x StitchError                the final video could not be assembled
      x RunwayError                the Runway API or its storage failed; ``status``, ``retryable``, ``retries_taken``
        + AuthError                401: "the API key was refused; set RUNWAYML_API_SECRET ..."
        + BadRequest               400: the API's own message; ``asset`` is filled by the executor to name the scene
        + RateLimited              429 after the retries ran out (retryable; ``retry_after``)
        + ServerError              5xx after the retries ran out (retryable; ``retry_after``)
        + TransportError           no response: the network failed (``sent`` says whether the request left)
        + AmbiguousCreate          a create was sent and its answer lost: it may have made, and billed, a task.
                                   never retried by the client; the executor counts it as possibly billed
                                   against the budget first, and only then submits once more.
        + TaskNotFound             404 on /v1/tasks/{id}
        + TaskFailed               a task ended FAILED (``failure_code``: SAFETY.* is never worth retrying)
        + DownloadExpired          an output URL answered 403/404/410: fetch the task again for fresh URLs

Secrets: no class here is ever given the API key, and the client scrubs it out of any text the API echoes back,
so no message, str() or repr() can contain it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AmbiguousCreate",
    "AuthError",
    "BadRequest",
    "BudgetExceeded",
    "ConfigError",
    "ConsentRequired",
    "DownloadExpired",
    "LockedError",
    "RateLimited",
    "RunwayError",
    "ServerError",
    "SpecError",
    "StitchError",
    "TaskFailed",
    "TaskNotFound",
    "TransportError",
    "VidspecError",
]


class VidspecError(Exception):
    """Base of every error vidspec raises on purpose; cli.main turns it into one line and ``exit_code``."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class SpecError(VidspecError):
    """The spec has errors; ``diagnostics`` holds them (typed loosely: the core owns Diagnostic)."""

    def __init__(self, message: str, diagnostics: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.diagnostics: Sequence[object] = list(diagnostics)


class ConfigError(VidspecError):
    """The environment is wrong: a missing key, an unwritable directory, a bad base URL."""


class BudgetExceeded(VidspecError):
    """Going on would spend more credits than the budget allows."""


class ConsentRequired(VidspecError):
    """Spending credits needs an explicit yes that was not given."""


class LockedError(VidspecError):
    """A --locked build found an asset that is not in the cache and would have to be generated."""


class StitchError(VidspecError):
    """The final video could not be assembled."""


class RunwayError(VidspecError):
    """The Runway API (or the storage behind its upload and output URLs) failed.

    ``retryable`` says whether sending the same request again is safe and may help; the client has already
    retried ``retries_taken`` times when it raises.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.retries_taken = 0
        if retryable is not None:
            self.retryable = retryable


class AuthError(RunwayError):
    """401: the key is wrong or revoked. Never retried."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "the API key was refused; set RUNWAYML_API_SECRET to a valid Runway API key (HTTP 401)",
            status=401,
        )


class BadRequest(RunwayError):
    """400: the API refused the request's content; ``api_message`` is its own words."""

    def __init__(self, api_message: str, *, asset: str | None = None) -> None:
        super().__init__(f"the Runway API refused the request: {api_message}", status=400)
        self.api_message = api_message
        # Filled in by the executor after the fact, so str() is computed, not frozen at construction.
        self.asset = asset

    def __str__(self) -> str:
        return f"{self.asset}: {self.message}" if self.asset else self.message


class RateLimited(RunwayError):
    """429: too many requests, or the model's daily generation limit. ``retry_after`` in seconds, if given."""

    retryable = True


class ServerError(RunwayError):
    """5xx from the API. Retryable: a 5xx answer to a create means no task was made."""

    retryable = True


class TransportError(RunwayError):
    """No HTTP response at all. ``sent`` is False when the failure came before the request left (refused
    connection, connect or pool timeout), which makes even a create safe to retry."""

    def __init__(self, message: str, *, sent: bool, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.sent = sent


class AmbiguousCreate(RunwayError):
    """A create request was sent but its answer was lost (read timeout, dropped connection, gateway timeout).

    The server may have made and billed a task whose id we never saw. The API takes no idempotency key, so
    resending could pay twice: the client never retries this, and the caller decides (for example by checking
    the organisation's usage, or by asking the user).
    """

    retryable = False

    def __init__(self, endpoint: str, elapsed: float, reason: str) -> None:
        super().__init__(
            f"the {endpoint} create request was sent but its answer was lost after {elapsed:.1f}s ({reason}); "
            "a task may have been made and billed, so it was not sent again"
        )
        self.endpoint = endpoint
        self.elapsed = elapsed
        self.reason = reason


class TaskNotFound(RunwayError):
    """404 on a task route: the id is unknown or the task was deleted."""

    def __init__(self, task_id: str) -> None:
        super().__init__(
            f"Runway task {task_id} was not found (deleted, or made with another key)", status=404
        )
        self.task_id = task_id


class TaskFailed(RunwayError):
    """A task ended FAILED. ``failure_code`` families: SAFETY.* (never retry the same request; still charged),
    INTERNAL.* and THIRD_PARTY.* (worth retrying), ASSET.* and INPUT_PREPROCESSING.* (fix the input)."""

    def __init__(self, task_id: str, failure: str | None, failure_code: str | None) -> None:
        code = f" [{failure_code}]" if failure_code else ""
        super().__init__(f"Runway task {task_id} failed{code}: {failure or 'no reason given'}")
        self.task_id = task_id
        self.failure = failure
        self.failure_code = failure_code
        self.retryable = failure_code is not None and failure_code.split(".")[0] in (
            "INTERNAL",
            "THIRD_PARTY",
        )


class DownloadExpired(RunwayError):
    """An output URL answered 403/404/410: it expired (24-48 h). Fetch the task again for fresh URLs."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(
            f"the output URL {url} answered {status}: it has expired; fetch the task again for fresh URLs",
            status=status,
        )
        self.url = url
