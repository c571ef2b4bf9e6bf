"""Tasks and their clock: PENDING, THROTTLED while the model is at its concurrency, RUNNING, then over.

A task's times are fixed when it is admitted, so its state at any moment follows from the clock alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OVER = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass
class Task:
    id: str
    endpoint: str
    model: str
    body: dict[str, Any]
    created: float  # monotonic
    created_at: str
    latency: float
    pending: float
    credits: int
    kind: str  # video | image | audio
    width: int
    height: int
    seconds: float
    audio: bool
    fail_code: str | None = None
    fail_text: str = ""
    fail_charged: bool = False
    fail_code_field: str = "present"  # "null" or "absent": how GET shows failureCode
    started: float | None = None
    ends: float | None = None
    cancelled: float | None = None
    deleted: bool = False
    gone: bool = False


def advance(tasks: Iterable[Task], concurrency: Mapping[str, int | None], now: float) -> None:
    """Admit waiting tasks, FIFO per model, at the exact time a concurrency slot was free."""
    tasks = list(tasks)
    waiting = sorted(
        (t for t in tasks if t.started is None and t.cancelled is None and not t.deleted),
        key=lambda t: t.created,
    )
    for model in {t.model for t in waiting}:
        limit = concurrency.get(model)
        spans = [(t.started, t.ends) for t in tasks if t.model == model and t.started is not None]
        for t in (w for w in waiting if w.model == model):
            eligible = t.created + t.pending
            start: float | None = eligible
            if limit is not None:
                cands = sorted({eligible} | {e for _, e in spans if e is not None and e > eligible})
                start = next(
                    (c for c in cands if sum(1 for s, e in spans if s <= c < (e or 0)) < limit), None
                )
            if start is None or start > now:
                break
            t.started, t.ends = start, start + (t.latency - t.pending)
            spans.append((t.started, t.ends))


def status(t: Task, now: float) -> str:
    if t.cancelled is not None:
        return "CANCELLED"
    if t.started is None or t.ends is None:
        return "PENDING" if now < t.created + t.pending else "THROTTLED"
    if now < t.ends:
        return "RUNNING"
    return "FAILED" if t.fail_code else "SUCCEEDED"


def cost(t: Task, now: float) -> int:
    """Credits charged so far: none for a cancelled task or a failure that is refunded."""
    state = status(t, now)
    if state == "CANCELLED" or (state == "FAILED" and not t.fail_charged):
        return 0
    return t.credits


def progress(t: Task, now: float) -> float:
    """0..1 through the RUNNING part of a started task."""
    assert t.started is not None
    return round(min(1.0, (now - t.started) / max(1e-9, t.latency - t.pending)), 3)


def delete(t: Task, now: float) -> None:
    """``DELETE /v1/tasks/{id}``: deletes a task that is over, cancels one that is not."""
    if status(t, now) in OVER:
        t.deleted = True
    else:
        t.cancelled = now
        if t.ends is not None:
            t.ends = now  # frees the concurrency slot
