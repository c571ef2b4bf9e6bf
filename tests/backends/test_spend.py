"""The paid backend's Budget over the spec's spend record: each create counted once, whatever moment a build is
killed at, and the two limits (the spec's budget across runs, --max-credits for one run)."""

from __future__ import annotations

from pathlib import Path

from vidspec.backends.runway.producer import Budget
from vidspec.core.budget import BudgetStatus, Limits, Spend
from vidspec.store.journal import Journal, JournalEntry
from vidspec.store.spend import SpendLog, spec_identity

KEY = "sha256:" + "a" * 64


def log(tmp: Path) -> SpendLog:
    return SpendLog.for_spec(tmp / ".vidspec", tmp / "film.yaml")


def resumed(tmp: Path, **kw: float) -> Budget:
    """The next build, after a kill: only what is on disk."""
    return Budget(kw.get("limit"), budget=kw.get("budget"), log=log(tmp), attempts=log(tmp).load())


def entry(task_id: str | None, attempt: str = "") -> JournalEntry:
    return JournalEntry(KEY, "a.video", "text_to_video", "gen4.5", task_id, 1.0, 60, attempt=attempt)


def test_killed_with_the_create_on_the_wire_counts_as_possibly_billed(tmp_path: Path) -> None:
    b = Budget(budget=200, log=log(tmp_path))
    assert b.reserve(KEY, 60, "a.video")
    assert b.in_flight == 60  # this run: on the wire
    after = resumed(tmp_path)
    assert after.spent == Spend(possibly_billed=60) and after.committed == 0


def test_killed_between_journaling_the_task_id_and_recording_it_counts_once(tmp_path: Path) -> None:
    b = Budget(budget=200, log=log(tmp_path))
    b.reserve(KEY, 60, "a.video")
    attempt = b.attempt(KEY)
    assert attempt is not None
    journal = Journal(tmp_path / "journal")
    journal.write(entry("task-1", attempt.id))  # the id is journaled; the kill comes before the record
    after = resumed(tmp_path)
    adopted = after.adopt(KEY, journal.get(KEY) or entry(None))
    assert adopted.id == attempt.id and adopted.task_id == "task-1"
    assert after.spent == Spend(in_flight=60)  # not 60 possibly billed plus 60 in flight
    assert resumed(tmp_path).spent == Spend(in_flight=60)


def test_charged_then_killed_before_the_cache_record_is_charged_once(tmp_path: Path) -> None:
    b = Budget(budget=200, log=log(tmp_path))
    b.reserve(KEY, 60, "a.video")
    attempt = b.attempt(KEY)
    assert attempt is not None
    b.submitted(KEY, "task-1", 60)
    b.settle(KEY, 50)  # the task is over; the kill comes before the download is cached
    after = resumed(tmp_path)
    after.adopt(KEY, entry("task-1", attempt.id))  # the journal still holds the task: re-attach to it
    after.settle(KEY, 50)
    assert after.spent == Spend(charged=50) and resumed(tmp_path).spent == Spend(charged=50)


def test_a_journal_without_attempt_ids_is_adopted_once(tmp_path: Path) -> None:
    first = resumed(tmp_path)
    first.adopt(KEY, entry("task-9"))  # written by an older vidspec
    second = resumed(tmp_path)
    second.adopt(KEY, entry("task-9"))
    assert len(second.attempts) == 1 and second.spent == Spend(in_flight=60)


def test_a_refused_create_costs_nothing_and_a_lost_one_is_kept(tmp_path: Path) -> None:
    b = Budget(log=log(tmp_path))
    b.reserve(KEY, 60, "a.video")
    b.release(KEY)
    b.reserve(KEY, 60, "a.video")
    assert b.lost(KEY) == 60
    assert resumed(tmp_path).spent == Spend(possibly_billed=60)


def test_the_api_estimate_is_the_most_an_open_task_counts(tmp_path: Path) -> None:
    b = Budget(log=log(tmp_path))
    b.reserve(KEY, 24, "a.video")
    b.submitted(KEY, "task-1", 30)
    assert b.in_flight == 30
    b.settle(KEY, 28)
    assert b.charged == 28


def test_the_spec_budget_counts_earlier_runs_and_the_cap_only_this_one(tmp_path: Path) -> None:
    earlier = Budget(log=log(tmp_path))
    earlier.reserve(KEY, 80, "a.video")
    earlier.settle(KEY, 80)
    b = resumed(tmp_path, budget=100, limit=30)
    assert b.committed == 0 and b.spent.total == 80
    assert b.reserve("sha256:" + "b" * 64, 20, "b.video")  # 80 + 20 = 100: exactly the budget
    why = b.why_not(1)
    assert why is not None and "budget of 100" in why and "100 committed" in why
    c = resumed(tmp_path, limit=30)  # no spec budget: only the cap, against this run alone
    assert c.reserve("sha256:" + "c" * 64, 30, "c.video") and not c.reserve("sha256:" + "d" * 64, 1)
    assert "--max-credits 30" in (c.why_not(1) or "")


def test_budget_status_is_both_limits_in_words() -> None:
    s = BudgetStatus(Limits(budget=150, max_credits=20), Spend(charged=100, possibly_billed=14), 24)
    assert s.budget_left == 12 and s.within_budget and not s.within_max_credits
    assert s.problems() == ["this build would spend 24 credits, over --max-credits 20"]
    over = BudgetStatus(Limits(budget=130), Spend(charged=100, possibly_billed=14), 24)
    assert over.budget_left == -8 and not over.within_budget
    assert "138 in total, over the spec's budget of 130" in over.problems()[0]
    resume = BudgetStatus(Limits(budget=100), Spend(possibly_billed=104), 0)  # adds nothing: may re-attach
    assert resume.within_budget and resume.problems() == [] and resume.budget_left == -4


def test_the_record_follows_the_project_with_its_cache(tmp_path: Path) -> None:
    assert spec_identity(tmp_path / "film.yaml", tmp_path / ".vidspec") == "film.yaml"
    assert spec_identity(tmp_path / "a" / "film.yaml", tmp_path / "elsewhere" / "cache").endswith(
        "a/film.yaml"
    )
