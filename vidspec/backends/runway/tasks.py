"""Runway task states and the poll schedule. Pure: no HTTP here."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# The failure-code rule lives with TaskFailed in errors.py (the base layer, so both can use it).
from vidspec.errors import retryable_failure as retryable_failure

# A task in one of these states never changes again.
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
DISPLAY = {"PENDING": "queued", "THROTTLED": "queued", "RUNNING": "running"}


@dataclass
class PollSchedule:
    """Backoff with jitter, aimed by the task's own progress.

    A few seconds at first and slower later. Once the task reports RUNNING progress, the next poll is
    aimed just after the predicted end (from two readings, or from one reading and the last time the
    task was seen queued), so a finished task is seen soon without polling it every second. A prediction
    may wait at most three backoff intervals, which bounds the cost of a task that slows down.
    """

    initial: float = 2.0
    factor: float = 1.5
    max_interval: float = 20.0
    jitter: float = 0.1
    scale: float = 1.0  # tests and benchmarks shrink every interval at once
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    _attempt: int = 0
    _samples: list[tuple[float, float]] = field(default_factory=list)
    _queued_until: float | None = None

    def observe(self, elapsed: float, progress: float | None, status: str = "RUNNING") -> None:
        if status in ("PENDING", "THROTTLED"):
            self._queued_until = elapsed
        elif status == "RUNNING" and progress is not None and 0 < progress < 1:
            self._samples.append((elapsed, progress))

    def _remaining(self, elapsed: float) -> float | None:
        if len(self._samples) >= 2:
            (t1, p1), (t2, p2) = self._samples[-2], self._samples[-1]
        elif len(self._samples) == 1 and self._queued_until is not None:
            (t1, p1), (t2, p2) = (self._queued_until, 0.0), self._samples[0]
        else:
            return None
        if p2 <= p1 or t2 <= t1:
            return None
        return (1 - p2) * (t2 - t1) / (p2 - p1) - (elapsed - t2)

    def next_delay(self, elapsed: float) -> float:
        backoff = min(self.initial * self.factor**self._attempt, self.max_interval) * self.scale
        self._attempt += 1
        backoff *= 1 + self.rng.uniform(-self.jitter, self.jitter)
        remaining = self._remaining(elapsed)
        if remaining is None:
            return backoff
        floor = 0.05 * self.initial * self.scale
        return max(floor, min(3 * backoff, remaining * 1.03 + floor))
