"""Operations that failed. A mistake in a spec is a Diagnostic (a value); an exception means the environment failed.

Every exception of the package is defined here, in one tree. ``exit_code`` is what `vidspec` exits with when one
reaches the command line; app/cli.py is the one place that turns an exception into an exit::

    Exception
    ├── VidspecError              exit 1   told to the user in one line, "vidspec: <message>"; str() is the message
    │   ├── SpecError             exit 1   the spec has errors; carries ``diagnostics`` (the core's Diagnostics)
    │   ├── ConfigError           exit 1   bad environment: RUNWAYML_API_SECRET missing, a directory not writable
    │   │   └── TeamCacheDenied   exit 1   the team cache refused the credentials (403), or has no such bucket
    │   ├── TeamCacheDown         exit 1   the team cache is unreachable (refused, timeout, 5xx): the build warns
    │   │                                  once and goes on with the local cache alone
    │   ├── BudgetExceeded        exit 1   the build would spend more than the budget allows
    │   ├── ConsentRequired       exit 1   spending needs an explicit yes (--yes) that was not given
    │   ├── LockedError           exit 1   a --locked build would need to generate something
    │   ├── PlanFileError         exit 1   a saved plan (plan --out) is malformed, edited, or names a spec
    │   │                                  outside its folder
    │   ├── StalePlan             exit 1   a saved plan no longer matches the spec, its inputs or the cache
    │   ├── UnknownTarget         exit 1   --target or --replace names no scene or asset of the spec (with a
    │   │                                  did-you-mean), or an asset that takes no seed
    │   ├── StitchError           exit 1   the final video could not be assembled
    │   ├── WriteError            exit 1   a file could not be written (full disk, read-only, no permission):
    │   │                                  names the path and the cause (os_error_cause); ``advice`` says what
    │   │                                  next. Also an OSError, for code that handles failed writes as such
    │   └── RunwayError           exit 1   the Runway API or its storage failed; ``status``, ``retryable``,
    │       │                              ``retries_taken``
    │       ├── AuthError                  401: "the API key was refused; set RUNWAYML_API_SECRET ..."
    │       ├── BadRequest                 400: the API's own message; ``asset`` is filled by the executor
    │       ├── RateLimited                429 after the retries ran out (retryable; ``retry_after``)
    │       ├── ServerError                5xx after the retries ran out (retryable; ``retry_after``)
    │       ├── TransportError             no response: the network failed (``sent``: whether the request left)
    │       ├── AmbiguousCreate            a create was sent and its answer lost: it may have made, and billed,
    │       │                              a task. Never retried by the client; the producer counts it as
    │       │                              possibly billed, and resubmits only with --resubmit-ambiguous.
    │       ├── TaskNotFound               404 on /v1/tasks/{id}
    │       ├── TaskFailed                 a task ended FAILED (``failure_code``; see retryable_failure)
    │       └── DownloadExpired            an output URL answered 403/404/410: fetch the task again
    └── InternalError             exit 70  raised to a caller inside vidspec that handles it; one reaching the
        │                                  command line is a bug: "vidspec: internal error: <Class>: <message>"
        ├── AssetFailed                    one asset could not be made; the executor records it as failed
        │   └── OutputExpired              a task's output is gone (URLs keep expiring): regenerate, priced
        ├── ProbeError                     the file is not a media file ffmpeg can read
        ├── StandinError                   ffmpeg failed to render a preview stand-in
        ├── FontNotFound                   no usable TrueType font (VIDSPEC_FONT)
        └── SpeechUnavailable              offline speech cannot run here: the preview falls back to a tone
            └── UnknownVoice               espeak-ng has no such voice: retried with the default voice

Exits that are not exceptions (cli.py): 0 done, 2 for `plan --detailed-exitcode` when credits would be spent,
130 interrupted (Ctrl-C; a build's KeyboardInterrupt carries what was in flight and how to resume); a usage
error exits 1.

Secrets: no class here is ever given the API key, and the client scrubs it out of any text the API echoes back,
so no message, str() or repr() can contain it.
"""

from __future__ import annotations

import errno as _errno
import os as _os
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AmbiguousCreate",
    "ApiIssue",
    "AssetFailed",
    "OutputExpired",
    "PlanFileError",
    "AuthError",
    "BadRequest",
    "BudgetExceeded",
    "ConfigError",
    "ConsentRequired",
    "DownloadExpired",
    "FontNotFound",
    "InternalError",
    "LockedError",
    "ProbeError",
    "RateLimited",
    "RunwayError",
    "ServerError",
    "SpecError",
    "SpeechUnavailable",
    "StalePlan",
    "StandinError",
    "StitchError",
    "TaskFailed",
    "TaskNotFound",
    "TeamCacheDenied",
    "TeamCacheDown",
    "TransportError",
    "UnknownTarget",
    "UnknownVoice",
    "VidspecError",
    "WriteError",
    "os_error_cause",
    "retryable_failure",
]

# ---------------------------------------------------------------------------------------------- told to the user


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

    exit_code = 1

    def __init__(self, message: str, diagnostics: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.diagnostics: Sequence[object] = list(diagnostics)


class ConfigError(VidspecError):
    """The environment is wrong: a missing key, an unwritable directory, a bad base URL."""

    exit_code = 1


class BudgetExceeded(VidspecError):
    """Going on would spend more credits than the budget allows."""

    exit_code = 1


class ConsentRequired(VidspecError):
    """Spending credits needs an explicit yes that was not given."""

    exit_code = 1


class LockedError(VidspecError):
    """A --locked build found an asset that is not in the cache and would have to be generated."""

    exit_code = 1


class PlanFileError(VidspecError):
    """A saved plan that cannot be applied as it is: malformed, changed by hand, or naming a spec elsewhere."""

    exit_code = 1


class TeamCacheDenied(ConfigError):
    """The team cache refused vidspec's credentials (403) or does not exist: a misconfiguration, told before
    anything is spent. Never carries a credential."""

    exit_code = 1


class StalePlan(VidspecError):
    """A saved plan no longer matches the spec, an input or the cache: applying it would not do what was
    reviewed. Raised before anything is spent."""

    exit_code = 1


class UnknownTarget(VidspecError):
    """A --target or --replace that names no scene or asset of the spec, or that cannot be re-rolled."""

    exit_code = 1


class TeamCacheDown(VidspecError):
    """The team cache cannot be reached now (connection refused, a timeout, a 5xx): builds go on with the
    local cache alone, after one warning."""

    exit_code = 1


class StitchError(VidspecError):
    """The final video could not be assembled."""

    exit_code = 1


# Causes a write can fail with that are about the place, not the data: a full disk or a file system or
# directory vidspec may not write to. Named in plain words; any other errno keeps the system's own words.
_WRITE_CAUSES = {
    _errno.ENOSPC: "the disk is full",
    _errno.EDQUOT: "the disk quota is used up",
    _errno.EROFS: "the file system is read-only",
    _errno.EACCES: "permission denied (this user may not write there)",
    _errno.EPERM: "permission denied (this user may not write there)",
    _errno.ENOTDIR: "a file is in the way where a directory is needed",
    _errno.EEXIST: "a file is in the way where a directory is needed",
}
WRITE_ERRNOS = frozenset(_WRITE_CAUSES)


def os_error_cause(error: OSError) -> str:
    """An OSError's cause in plain words: "the disk is full", "the file system is read-only", ..."""
    if error.errno in _WRITE_CAUSES:
        return _WRITE_CAUSES[error.errno]
    if error.strerror:
        return error.strerror
    return _os.strerror(error.errno) if error.errno else (str(error) or type(error).__name__)


class WriteError(VidspecError, OSError):
    """A file or directory could not be written; ``path`` and ``errno`` say which and why.

    Also an OSError (``errno``, ``strerror`` in plain words, ``filename``), so code that handles a failed
    write as an OSError still does. ``advice`` is set by the caller that knows the situation (nothing spent
    yet; tasks journaled, so the same command re-attaches) and is appended to the message."""

    exit_code = 1

    def __init__(self, path: object, error: OSError, *, advice: str = "") -> None:
        self.path = str(path)
        super().__init__(f"cannot write {self.path}: {os_error_cause(error)}")
        self.errno = error.errno
        self.strerror = os_error_cause(error)
        self.filename = self.path
        self.advice = advice

    def __str__(self) -> str:
        return f"{self.message}; {self.advice}" if self.advice else self.message


class RunwayError(VidspecError):
    """The Runway API (or the storage behind its upload and output URLs) failed.

    ``retryable`` says whether sending the same request again is safe and may help; the client has already
    retried ``retries_taken`` times when it raises.
    """

    exit_code = 1

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

    exit_code = 1

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "the API key was refused; set RUNWAYML_API_SECRET to a valid Runway API key (HTTP 401)",
            status=401,
        )


@dataclass(frozen=True)
class ApiIssue:
    """One entry of a 400's ``issues``: the API's code, the wire path (["promptImage", 0, "uri"]), its words."""

    code: str | None
    path: tuple[str | int, ...]
    message: str


class BadRequest(RunwayError):
    """400: the API refused the request's content; ``api_message`` is its own words, ``issues`` its details."""

    exit_code = 1

    def __init__(
        self, api_message: str, *, asset: str | None = None, issues: Sequence[ApiIssue] = ()
    ) -> None:
        super().__init__(f"the Runway API refused the request: {api_message}", status=400)
        self.api_message = api_message
        self.issues: tuple[ApiIssue, ...] = tuple(issues)
        # Filled in by the executor after the fact, so str() is computed, not frozen at construction.
        self.asset = asset

    def __str__(self) -> str:
        return f"{self.asset}: {self.message}" if self.asset else self.message


class RateLimited(RunwayError):
    """429: too many requests, or the model's daily generation limit. ``retry_after`` in seconds, if given."""

    exit_code = 1

    retryable = True


class ServerError(RunwayError):
    """5xx from the API. Retryable: a 5xx answer to a create means no task was made."""

    exit_code = 1

    retryable = True


class TransportError(RunwayError):
    """No HTTP response at all. ``sent`` is False when the failure came before the request left (refused
    connection, connect or pool timeout), which makes even a create safe to retry."""

    exit_code = 1

    def __init__(self, message: str, *, sent: bool, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.sent = sent


class AmbiguousCreate(RunwayError):
    """A create request was sent but its answer was lost (read timeout, dropped connection, gateway timeout).

    The server may have made and billed a task whose id we never saw. The API takes no idempotency key, so
    resending could pay twice: the client never retries this, and the caller decides (for example by checking
    the organisation's usage, or by asking the user).
    """

    exit_code = 1

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

    exit_code = 1

    def __init__(self, task_id: str) -> None:
        super().__init__(
            f"Runway task {task_id} was not found (deleted, or made with another key)", status=404
        )
        self.task_id = task_id


# Task failure-code families worth a second try: INTERNAL.* and THIRD_PARTY.* may work next time;
# SAFETY.* never will (and is still charged); ASSET.* and INPUT_PREPROCESSING.* need a fixed input.
RETRYABLE_FAILURE_FAMILIES = ("INTERNAL", "THIRD_PARTY")


def retryable_failure(code: str | None) -> bool:
    """Whether a task that failed with ``code`` may succeed if submitted again."""
    return code is not None and code.split(".")[0] in RETRYABLE_FAILURE_FAMILIES


class TaskFailed(RunwayError):
    """A task ended FAILED; ``retryable`` follows its ``failure_code`` family (see retryable_failure)."""

    exit_code = 1

    def __init__(self, task_id: str, failure: str | None, failure_code: str | None) -> None:
        code = f" [{failure_code}]" if failure_code else ""
        super().__init__(f"Runway task {task_id} failed{code}: {failure or 'no reason given'}")
        self.task_id = task_id
        self.failure = failure
        self.failure_code = failure_code
        self.retryable = retryable_failure(failure_code)


class DownloadExpired(RunwayError):
    """An output URL answered 403/404/410: it expired (24-48 h). Fetch the task again for fresh URLs."""

    exit_code = 1

    def __init__(self, url: str, status: int) -> None:
        super().__init__(
            f"the output URL {url} answered {status}: it has expired; fetch the task again for fresh URLs",
            status=status,
        )
        self.url = url


# ---------------------------------------------------------------------------------------------- handled inside


class InternalError(Exception):
    """Raised to a caller inside vidspec that turns it into a result, a fallback or a VidspecError.

    One that reaches the command line was not handled: a bug, reported as an internal error.
    """

    exit_code: int = 70


class AssetFailed(InternalError):
    """One asset could not be made; the executor records it as failed and the other assets go on.

    ``charged`` is what Runway billed for it (failed tasks may be billed); ``possibly_billed`` counts creates
    whose answer was lost.
    """

    exit_code = 70

    def __init__(self, message: str, *, charged: int | None = None, possibly_billed: int = 0) -> None:
        super().__init__(message)
        self.charged = charged
        self.possibly_billed = possibly_billed


class OutputExpired(AssetFailed):
    """A task's output URLs keep answering "expired" even when fresh: the output itself is gone."""

    exit_code = 70


class ProbeError(InternalError):
    """The file is not a media file ffmpeg can read."""

    exit_code = 70


class StandinError(InternalError):
    """ffmpeg failed to render a stand-in."""

    exit_code = 70


class FontNotFound(InternalError):
    """No usable TrueType font: set VIDSPEC_FONT to a .ttf file."""

    exit_code = 70


class SpeechUnavailable(InternalError):
    """Offline synthesis cannot run here; callers fall back to a tone and show a notice."""

    exit_code = 70


class UnknownVoice(SpeechUnavailable):
    """espeak-ng has no voice of that name (callers may retry with the default voice)."""

    exit_code = 70
