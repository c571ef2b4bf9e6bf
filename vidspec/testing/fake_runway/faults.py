"""Fault injection: which faults exist, which request each one hits, and what it does there."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vidspec.testing.fake_runway.states import Task
from vidspec.testing.fake_runway.transport import Response, error

FAULT_KINDS = (
    "http_401", "http_429", "http_500", "http_503", "drop_connection",
    "timeout_after_create", "task_failed", "expired_output", "task_gone", "bad_request",
)  # fmt: skip
# task_failed's failure_code: how the FAILED task carries its code (the API may leave the key out).
FAILURE_CODE_FIELDS = ("present", "null", "absent")
# Answered before any routing (the request is still recorded).
ENTRY_FAULTS = ("drop_connection", "http_401", "http_429", "http_500", "http_503")


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: str | None = None
    method: str | None = None
    model: str | None = None
    task_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def matches(self, path: str, method: str, model: str | None, task_id: str | None) -> bool:
        if self.fired >= self.times:
            return False
        if self.path and not (path == self.path or path.startswith(self.path.rstrip("/") + "/")):
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.model and self.model != model:
            return False
        return not (self.task_id and self.task_id != task_id)


def new_fault(
    kind: str,
    times: int,
    path: str | None,
    method: str | None,
    model: str | None,
    task_id: str | None,
    params: dict[str, Any],
) -> Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
    if params.get("failure_code", "present") not in FAILURE_CODE_FIELDS:
        raise ValueError(f"failure_code must be one of {', '.join(FAILURE_CODE_FIELDS)}")
    return Fault(kind, times, path, method, model, task_id, params)


def take(
    faults: Iterable[Fault],
    kinds: tuple[str, ...],
    path: str,
    method: str,
    model: str | None = None,
    task_id: str | None = None,
) -> Fault | None:
    """The first armed fault of `kinds` that matches the request, counted as fired; None if none."""
    for f in faults:
        if f.kind in kinds and f.matches(path, method, model, task_id):
            f.fired += 1
            return f
    return None


def entry_response(fault: Fault) -> Response:
    """What an entry fault (ENTRY_FAULTS) answers instead of the request."""
    if fault.kind == "drop_connection":
        return Response(0, drop=True)
    status = int(fault.kind.removeprefix("http_"))
    extra = {"Retry-After": str(fault.params["retry_after"])} if "retry_after" in fault.params else {}
    return error(status, fault.params.get("message", f"injected HTTP {status}"), **extra)


def fail_task(task: Task, fault: Fault) -> None:
    """task_failed: the task will end FAILED with the fault's code (SAFETY.INPUT.* is charged unless said)."""
    task.fail_code = str(fault.params.get("code", "INTERNAL.BAD_OUTPUT"))
    task.fail_text = str(fault.params.get("failure", f"Injected failure ({task.fail_code})."))
    task.fail_charged = bool(fault.params.get("charged", task.fail_code.startswith("SAFETY.INPUT")))
    task.fail_code_field = str(fault.params.get("failure_code", "present"))


def bad_request_response(fault: Fault) -> Response:
    """bad_request: a 400 as the API sends it, with ``issues`` ([{code, path, message}]) and ``docUrl`` if given."""
    issues = fault.params.get("issues")
    body: dict[str, Any] = {
        "error": str(
            fault.params.get("message", "Validation of body failed" if issues else "injected HTTP 400")
        )
    }
    if issues is not None:
        body["issues"] = issues
    if "docUrl" in fault.params:
        body["docUrl"] = fault.params["docUrl"]
    return Response(400, body)


def held_create_response(fault: Fault, task_id: str) -> Response:
    """timeout_after_create: the task exists (and is billed), but the answer is late or never comes."""
    respond = fault.params.get("then", "drop") == "respond"
    return Response(200, {"id": task_id}, drop=not respond, delay=float(fault.params.get("delay", 0.0)))
