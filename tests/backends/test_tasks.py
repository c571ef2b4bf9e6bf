"""The Runway task states, the poll schedule and the budget."""

from __future__ import annotations

import pytest

from vidspec.backends.runway.producer import Budget
from vidspec.backends.runway.tasks import PollSchedule, retryable_failure


def test_poll_schedule_backs_off_and_aims_at_the_end() -> None:
    s = PollSchedule(jitter=0.0)
    delays = [s.next_delay(0) for _ in range(10)]
    assert delays[0] == pytest.approx(2.0) and delays[1] == pytest.approx(3.0)
    assert max(delays) == pytest.approx(20.0) and delays == sorted(delays)
    p = PollSchedule(jitter=0.0, scale=0.1)
    p.observe(0.2, None, "PENDING")
    p.observe(0.5, 0.3)  # running since at most 0.2 s: 1.0 progress per second, 0.7 s left
    assert p.next_delay(0.5) == pytest.approx(0.6)  # capped at three backoff intervals (3 x 0.2 s)
    p.observe(0.6, 0.4)
    assert p.next_delay(0.6) == pytest.approx(0.6 * 1.03 + 0.01, abs=1e-6)
    p.observe(0.9, 0.8)  # the last two readings: 4/3 per second, 0.15 s left at 0.9 s
    assert p.next_delay(0.95) == pytest.approx((0.15 - 0.05) * 1.03 + 0.01, abs=1e-6)
    lone = PollSchedule(jitter=0.0, scale=0.1)
    lone.observe(1.0, 0.01)  # one reading and never seen queued: no prediction, plain backoff
    assert lone.next_delay(1.0) == pytest.approx(0.2)


def test_failure_codes() -> None:
    assert retryable_failure("INTERNAL.BAD_OUTPUT.CODE01")
    assert retryable_failure("THIRD_PARTY.UNAVAILABLE")
    assert not retryable_failure("SAFETY.INPUT.TEXT")
    assert not retryable_failure("ASSET.INVALID")
    assert not retryable_failure(None)


def test_budget_counts_in_flight_and_possibly_billed() -> None:
    b = Budget(100)
    assert b.reserve("a", 60)
    assert not b.reserve("b", 60)  # 60 in flight + 60 > 100
    b.settle("a", 50)
    assert b.reserve("b", 50)
    b.release("b")
    assert b.reserve("p", 30)
    b.lost("p")  # its answer was lost: 30 possibly billed, for good
    assert not b.reserve("c", 30) and b.reserve("c", 20)
    assert Budget(None).reserve("x", 10**9)
