"""`vidspec build`: preflight, consent, run the graph on a backend, lockfile, ledger, then the final cut."""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidspec.app.workspace import PREVIEW, RUNWAY, Workspace
from vidspec.backends.executor import AssetFailed, BuildReport, Emit, Executor, Producer
from vidspec.backends.footage import WithFootage
from vidspec.backends.runway.config import KEY_ENV, RunwayConfig
from vidspec.core.budget import Attempt, BudgetStatus, Limits, Spend, over_budget, tally
from vidspec.core.diagnostics import Diagnostic, error
from vidspec.core.graph import Asset
from vidspec.core.lock import Lock, LockEntry
from vidspec.core.plan import Plan
from vidspec.errors import (
    WRITE_ERRNOS,
    BudgetExceeded,
    ConfigError,
    ConsentRequired,
    LockedError,
    VidspecError,
    WriteError,
)
from vidspec.store.atomic import atomic_write_text, check_writable_dir
from vidspec.store.lockfile import lock_path, write_lock
from vidspec.store.spend import SpendLog, from_lockfile


@dataclass
class BuildOptions:
    backend: str = RUNWAY
    yes: bool = False
    locked: bool = False
    concurrency: int | None = None
    max_credits: float | None = None
    task_timeout: float = 600.0
    poll_scale: float = 1.0
    cache_dir: Path | None = None
    stitch: bool = True
    force_stitch: bool = False
    interactive: bool = False
    runway: RunwayConfig = field(default_factory=RunwayConfig.from_env)  # the CLI passes the one it read
    resubmit_ambiguous: bool = False  # send again creates that may already have been billed
    allow_paths: tuple[Path, ...] = ()  # folders outside the project inputs may come from (--allow-path)
    targets: tuple[str, ...] = ()  # --target: these scenes or assets and what they depend on
    replace: tuple[str, ...] = ()  # --replace: a new take of each asset, with a new seed
    seeds: dict[str, int] | None = None  # the seeds of --replace's takes, when a saved plan fixed them
    # A saved plan this build applies: checked against the fresh plan before anything is spent.
    saved: Callable[[Workspace, Plan], None] | None = None
    cache_url: str | None = None  # the team cache (--cache-url; VIDSPEC_CACHE_URL when None)


@dataclass
class BuildOutcome:
    workspace: Workspace
    plan: Plan
    report: BuildReport
    output: Path | None = None
    stitch: Any = None
    ledger: Path | None = None
    lockfile: Path | None = None
    notices: list[str] = field(default_factory=list)
    budget: BudgetStatus | None = None  # both limits as this build started (a Runway build)
    committed: Spend | None = None  # what this build committed: charged, in flight, possibly billed
    outputs: list[Path] = field(default_factory=list)  # every final cut written (`outputs:`), in order
    stitches: list[Any] = field(default_factory=list)  # and how each went


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    reason: str  # why, in words, for `plan`: "--backend", "RUNWAYML_API_SECRET is set", ...
    notice: str | None = None  # what `build` says when it falls back to the free preview


def backend_choice(requested: str | None, config: RunwayConfig | None = None) -> BackendChoice:
    """--backend if given; runway when a key is set; otherwise the free preview, with a notice.

    The one rule: `build` runs on it and `plan` reports it."""
    if requested:
        return BackendChoice(requested, "--backend")
    if (config if config is not None else RunwayConfig.from_env()).has_key:
        return BackendChoice(RUNWAY, f"{KEY_ENV} is set")
    return BackendChoice(
        PREVIEW,
        f"{KEY_ENV} is not set; a build renders a free animatic",
        f"no {KEY_ENV} found: rendering a free local animatic (--backend preview)",
    )


def choose_backend(requested: str | None, config: RunwayConfig | None = None) -> tuple[str, str | None]:
    """(backend, notice): see backend_choice."""
    choice = backend_choice(requested, config)
    return choice.backend, choice.notice


def _check_output(ws: Workspace, output: Path) -> None:
    """Before anything is spent: writing the output destroys nothing of the user's (_check_writable: it can be
    written)."""
    ws.refuse_outputs_outside(output)
    if output.is_dir():
        raise ConfigError(f"the output path {output} is a directory; set output.path to a file")
    if output.resolve() in ws.protected_files():
        raise ConfigError(f"the output path {output} is an input of the project; it would be overwritten")


def _check_writable(ws: Workspace, plan: Plan, output: Path, backend: str) -> None:
    """Before anything is spent: every directory the build will write to takes a real file (permission bits
    say nothing for root, a read-only mount or a full disk), so a paid build never dies at its first write.
    The lockfile's directory only when Runway has work to do: a build of a cached spec may run from a
    read-only checkout, and then fails only if the lockfile does need rewriting (after nothing was spent)."""
    places = [
        (output.parent, "the output goes there"),
        (ws.cache.root, "the cache lives there (--cache-dir, VIDSPEC_CACHE_DIR)"),
        (ws.store.root, "the cache lives there (--cache-dir, VIDSPEC_CACHE_DIR)"),
    ]
    keys = set(ws.keys.values())
    work = any(r.action not in ("cached", "reuse") for r in plan.rows) or any(
        e.key in keys for e in ws.cache.journal.entries()
    )
    if backend == RUNWAY and work:
        lockfile = lock_path(ws.spec)
        places += [
            (ws.cache.journal.root, "the task journal lives there"),
            (lockfile.parent, f"the lockfile {lockfile.name} goes there"),
        ]
    for directory, why in places:
        try:
            check_writable_dir(directory)
        except WriteError as exc:
            exc.advice = f"{why}; nothing was spent"
            raise


def _check_inputs(ws: Workspace) -> None:
    for asset in ws.graph.assets:
        for path in asset.files():
            try:
                with path.open("rb") as f:
                    f.read(1)
            except OSError as exc:
                raise ConfigError(f"cannot read {path} for '{asset.name}': {exc.strerror}") from None


def _locked_check(ws: Workspace, plan: Plan) -> None:
    lock = ws.lock or Lock()
    problems = []
    for row in plan.rows:
        entry = lock.assets.get(row.asset.name)
        if entry is None:
            problems.append(f"{row.asset.name}: not in the lockfile")
        elif entry.key != row.key:
            problems.append(f"{row.asset.name}: the spec changed since the lockfile was written")
        elif row.spends:
            problems.append(f"{row.asset.name}: in the lockfile but missing from the cache")
    if problems:
        raise LockedError("--locked: the build would have to generate assets:\n  " + "\n  ".join(problems))


def build(
    spec: Path,
    options: BuildOptions,
    emit: Emit,
    confirm: Callable[[Plan], bool],
    on_stitch_progress: Callable[[float, float], None] | None = None,
) -> BuildOutcome:
    # --max-credits caps what this run commits (checked against the spend, below), not a build from nothing.
    ws = Workspace.open(
        spec,
        cache_dir=options.cache_dir,
        namespace=options.backend,
        allow=options.allow_paths,
        targets=options.targets,
        replace=options.replace,
        seeds=options.seeds,
        cache_url=options.cache_url,
    )
    plan = ws.plan(runway=options.runway)  # verifies the cache; asks Runway about tasks of damaged files
    if options.saved is not None:
        options.saved(ws, plan)  # the saved plan is stale: refused before anything is spent
    over = over_budget(plan.total_credits, plan.budget)
    if over is not None:
        raise BudgetExceeded(over)
    if options.locked:
        _locked_check(ws, plan)
    outputs = ws.outputs()
    output = outputs[0][1]
    emit(
        {
            "event": "plan",
            "backend": options.backend,
            "total_credits": plan.total_credits,
            "to_spend_credits": plan.to_spend_credits if options.backend == RUNWAY else 0,
            "assets": len(plan.rows),
            "output": str(output),
            "outputs": [str(path) for _, path in outputs],
        }
    )
    for _, path in outputs:
        _check_output(ws, path)
        _check_writable(ws, plan, path, options.backend)
    _check_inputs(ws)
    money: tuple[BudgetStatus, Spend] | None = None
    with ws.cache.exclusive(), _stops_explained(ws, options.backend, "run"):
        assets = run_set(ws)
        if options.backend == RUNWAY:
            report, notices, money = _run_runway(ws, plan, options, emit, confirm, assets)
        else:
            report, notices = _run_preview(ws, emit, assets)
    outcome = BuildOutcome(ws, plan, report, notices=notices)
    if ws.team is not None:  # the team cache's warnings: down (once), damaged objects ignored
        outcome.notices[:0] = ws.team.warnings
    if money is not None:
        outcome.budget, outcome.committed = money
    if options.backend == RUNWAY:
        with _stops_explained(ws, options.backend, "finish"):
            outcome.lockfile = _write_lock(ws, report)
            outcome.ledger = _write_ledger(ws, plan, report, output, outcome)
    if report.failed or not options.stitch:
        return outcome
    missing = unbuilt(ws, report)
    if missing:
        outcome.notices.append(
            f"not stitching {output.name}: {len(missing)} scene{'s are' if len(missing) > 1 else ' is'} not "
            f"built yet ({', '.join(missing)}); build without --target to make the film"
        )
        return outcome
    from vidspec.media.stitch import stitch
    from vidspec.media.timeline import build_timeline

    paths = {r.name: r.path for r in report.results if r.path is not None}
    # The stitcher checks every clip against the sha256 it was verified with, right before cutting.
    checksums = {str(r.path): r.output_sha256 for r in report.results if r.path and r.output_sha256}
    for out, path in outputs:  # every final cut from the same cached assets, each reframed for its frame
        timeline = build_timeline(
            ws.graph,
            paths,
            ws.keys,
            path,
            preset="veryfast" if options.backend == PREVIEW else None,
            checksums=checksums,
            out=out,
            segments=ws.cache.root / "segments",  # encoded picture segments, reused by the next stitch
            loudness_cache=ws.cache.root / "loudness",  # per-file measurements, made once
        )
        emit({"event": "stitch", "state": "start", "output": str(path)})
        with _stops_explained(ws, options.backend, "finish", path):
            done = stitch(timeline, progress=on_stitch_progress, force=options.force_stitch)
        outcome.outputs.append(path)
        outcome.stitches.append(done)
        emit(
            {
                "event": "stitch",
                "state": "skipped" if done.skipped else "done",
                "output": str(path),
                "duration": done.duration,
                "fast_path": done.fast_path,
                **done.encodes(),
            }
        )
    outcome.output, outcome.stitch = output, outcome.stitches[0]
    return outcome


@contextmanager
def _stops_explained(ws: Workspace, backend: str, phase: str, output: Path | None = None) -> Iterator[None]:
    """Ctrl-C or a failed write after preflight: say what is safe and how to go on. ``phase`` is "run"
    (assets being made) or "finish" (every asset made: the lockfile, the ledger, the cut)."""
    try:
        yield
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_interrupted(ws, backend, phase, output)) from None
    except OSError as exc:
        if not isinstance(exc, WriteError):
            if exc.errno not in WRITE_ERRNOS:
                raise
            exc = WriteError(exc.filename or ws.cache.root, exc)
        if not exc.advice:
            exc.advice = _after_write_error(ws, backend, phase, exc.errno)
        raise exc from None


def _in_flight(ws: Workspace) -> list[Any]:
    """Journal entries of this spec whose asset is not cached yet: tasks made (or maybe made) on Runway."""
    keys = set(ws.keys.values())
    return [e for e in ws.cache.journal.entries() if e.key in keys and not ws.store.has(e.key)]


def _interrupted(ws: Workspace, backend: str, phase: str, output: Path | None) -> str:
    resume = "Run the same command to resume"
    if phase == "finish":
        where = f" while writing {output}" if output is not None else ""
        return f"interrupted{where}; every asset is cached. {resume}: nothing is paid for twice"
    if backend != RUNWAY:
        return f"interrupted; the stand-ins already rendered are cached. {resume}"
    entries = _in_flight(ws)
    sent = [f"{e.name} (task {e.task_id[:8]})" for e in entries if e.task_id]
    lost = [e.name for e in entries if not e.task_id]
    if not sent and not lost:
        return (
            f"interrupted; nothing was in flight on Runway. {resume}: finished assets are cached, so none "
            "is paid for twice"
        )
    parts = ["interrupted."]
    if sent:
        parts.append(
            f"In flight on Runway and journaled in {ws.cache.journal.root}: {', '.join(sent)}. {resume}: it "
            "re-attaches to these tasks by id, so none of them is paid for twice; finished assets are cached."
        )
    if lost:
        parts.append(
            f"Sent but not answered, so possibly billed: {', '.join(lost)}; journaled too, and not sent again "
            "without --resubmit-ambiguous." + ("" if sent else f" {resume}; finished assets are cached.")
        )
    return " ".join(parts)


def _after_write_error(ws: Workspace, backend: str, phase: str, code: int | None) -> str:
    fix = "free some space" if code in (errno.ENOSPC, errno.EDQUOT) else "make it writable"
    if phase == "finish" or backend != RUNWAY:
        return f"every asset made so far is cached, so nothing is paid again: {fix} and run the same command"
    paid = [e for e in _in_flight(ws) if e.task_id]
    if not paid:
        return f"nothing in flight was lost: {fix} and run the same command; finished assets are cached"
    return (
        f"{len(paid)} paid task{'s are' if len(paid) > 1 else ' is'} journaled in {ws.cache.journal.root}: "
        f"{fix} and run the same command; it will re-attach to {'them' if len(paid) > 1 else 'it'} by task "
        "id, so nothing is paid twice"
    )


def run_set(ws: Workspace) -> list[Asset]:
    """What the executor runs: every asset, or with --target the selection and whatever else is cached (so
    the film can be cut when nothing is missing). A cached asset costs nothing and is only verified."""
    if ws.selection is None:
        return list(ws.graph.assets)
    store = ws.store
    return [a for a in ws.graph.assets if a.name in ws.selection or store.check(ws.keys[a.name]).ok]


def unbuilt(ws: Workspace, report: BuildReport) -> list[str]:
    """The scenes with an asset this build did not have (a --target build leaves others alone)."""
    have = {r.name for r in report.results if r.path is not None}
    return list(dict.fromkeys(a.scene_id for a in ws.graph.assets if a.name not in have))


def _run_preview(ws: Workspace, emit: Emit, assets: list[Asset]) -> tuple[BuildReport, list[str]]:
    from vidspec.backends.preview.producer import PreviewProducer
    from vidspec.media.timeline import output_ratio

    by_name = ws.graph.by_name()
    texts = {  # dub asset -> the narration's text, to speak offline
        a.name: by_name[a.narration.name].prompt or "" for a in ws.graph.assets if a.narration is not None
    }
    producer = PreviewProducer(
        ws.store,
        out_ratio=output_ratio(ws.graph),
        fps=ws.outputs()[0][0].output.fps,  # the first cut's rate (the stitcher converts for the others)
        narration_texts=texts,
    )
    report = _execute(ws, producer, emit, assets)
    return report, producer.notices


def _execute(
    ws: Workspace,
    producer: Producer,
    emit: Emit,
    assets: list[Asset],
    regenerate: frozenset[str] = frozenset(),
) -> BuildReport:
    executor = Executor(ws.store, WithFootage(producer, ws.store), emit, regenerate=regenerate, team=ws.team)
    return asyncio.run(executor.run(assets, ws.keys))


def spend_log(ws: Workspace) -> SpendLog:
    return SpendLog.for_spec(ws.cache.root, ws.spec)


def spend_attempts(ws: Workspace, log: SpendLog) -> tuple[list[Attempt], list[Attempt]]:
    """(known, new): the spec's create attempts from its spend record (or, when it has none yet, what its
    lockfile says was charged), and the ones only the journal knows (a journal from an older vidspec)."""
    known = log.load() if log.exists() else from_lockfile(ws.lock)
    new = [] if log.exists() else list(known)
    ids = {a.id for a in known}
    tasks = {a.task_id for a in known if a.task_id}
    keys = set(ws.keys.values())
    for e in ws.cache.journal.entries():
        if e.key not in keys or (e.attempt and e.attempt in ids) or (e.task_id and e.task_id in tasks):
            continue
        a = Attempt(
            e.attempt or f"journal-{e.key.split(':')[-1][:16]}", e.key, e.name, "journal", e.credits_estimated,
            "submitted" if e.task_id else "ambiguous", e.task_id, e.credits_api_estimate, at=e.submitted_at,
        )  # fmt: skip
        known.append(a)
        new.append(a)
    return known, new


def budget_status(
    ws: Workspace,
    plan: Plan,
    max_credits: float | None = None,
    *,
    resubmit_ambiguous: bool = False,
    attempts: list[Attempt] | None = None,
) -> BudgetStatus:
    """Both limits against the next build: what this spec's builds committed so far and what this one adds.

    A create journaled with a task id is re-attached: already counted (in flight), it adds nothing. One that may
    already be billed adds its credits again only when it is resubmitted (--resubmit-ambiguous)."""
    if attempts is None:
        attempts = spend_attempts(ws, spend_log(ws))[0]
    journal = {e.key: e for e in ws.cache.journal.entries()}
    this_build = held = 0
    for row in plan.rows:
        if not row.spends:
            continue
        entry = journal.get(row.key)
        if entry is not None and entry.task_id is not None:
            continue
        if entry is not None:
            held += row.asset.credits
            if not resubmit_ambiguous:
                continue
        this_build += row.asset.credits
    limits = Limits(ws.graph.project.budget, max_credits)
    return BudgetStatus(limits, tally(attempts), this_build, held)


def budget_diagnostics(ws: Workspace, status: BudgetStatus) -> list[Diagnostic]:
    """VS601 for each limit the next build would cross: at the spec's `budget`, or for --max-credits."""
    out = []
    hint = "raise the limit, or cut scenes; `vidspec plan` shows the cost per asset"
    if not status.within_max_credits:
        out.append(error("VS601", status.problems()[0], (), hint).located(str(ws.spec), None, None))
    if not status.within_budget:
        out.append(ws.validated.source.locate(error("VS601", status.problems()[-1], ("budget",), hint)))
    return out


def _run_runway(
    ws: Workspace,
    plan: Plan,
    options: BuildOptions,
    emit: Emit,
    confirm: Callable[[Plan], bool],
    assets: list[Asset],
) -> tuple[BuildReport, list[str], tuple[BudgetStatus, Spend]]:
    from vidspec.backends.runway.client import RunwayClient
    from vidspec.backends.runway.producer import Budget, RunwayOptions, RunwayProducer

    notices: list[str] = []
    to_spend = plan.to_spend_credits
    journal = ws.cache.journal
    pending = [e for e in journal.entries() if e.key in set(ws.keys.values())]
    log = spend_log(ws)
    attempts, unrecorded = spend_attempts(ws, log)
    status = budget_status(
        ws, plan, options.max_credits, resubmit_ambiguous=options.resubmit_ambiguous, attempts=attempts
    )
    refetch = sum(1 for r in plan.rows if r.refetch)
    if to_spend == 0 and not pending and not refetch:
        return _execute(ws, _CachedOnly(), emit, assets), notices, (status, Spend())
    if not options.runway.has_key and to_spend == 0 and not pending:
        raise ConfigError(
            f"{refetch} cached file{'s' if refetch > 1 else ''} must be fetched again from Runway (free: "
            f"`vidspec plan` lists them), but {KEY_ENV} is not set"
        )
    if not options.runway.has_key:
        raise ConfigError(
            f"{to_spend} credits of assets need generating, but {KEY_ENV} is not set; "
            "set it, or use --backend preview for a free animatic"
        )
    problems = status.problems()
    if problems:
        raise BudgetExceeded(
            "; ".join(problems) + ". Nothing was spent: raise `budget` in the spec or --max-credits, "
            "or cut what the build makes (`vidspec plan` shows both limits)"
        )
    consent = options.yes
    if to_spend > 0 and not options.yes:
        if not options.interactive:
            raise ConsentRequired(
                f"this build would spend {to_spend} credits (${to_spend / 100:.2f}); "
                "pass --yes to allow spending when not in a terminal"
            )
        if not confirm(plan):
            raise ConsentRequired("not confirmed; nothing was spent")
        consent = True
    for a in unrecorded:  # the spend record starts from the lockfile and the journal
        log.put(a)
    budget = Budget(options.max_credits, budget=ws.graph.project.budget, log=log, attempts=attempts)
    held: dict[str, int] = {}

    async def run() -> BuildReport:
        async with RunwayClient.from_config(options.runway) as client:
            org = await client.organization()
            if org.credit_balance is not None and org.credit_balance < to_spend:
                raise BudgetExceeded(
                    f"the organisation has {org.credit_balance} credits; this build needs {to_spend}"
                )
            ropts = RunwayOptions(
                options.concurrency,
                options.task_timeout,
                options.poll_scale,
                resubmit_lost=consent,
                resubmit_ambiguous=options.resubmit_ambiguous,
            )
            producer = RunwayProducer(client, ws.store, journal, org, ropts, budget, locate=ws.locate)
            try:
                # A damaged or missing file is created anew only when this plan priced it (its task is gone).
                regenerate = frozenset(r.key for r in plan.rows if r.spends)
                executor = Executor(
                    ws.store, WithFootage(producer, ws.store), emit, regenerate=regenerate, team=ws.team
                )
                return await executor.run(assets, ws.keys)
            finally:
                held.update(producer.held)

    report = asyncio.run(run())
    for entry in journal.entries():  # finished tasks no longer need their journal line
        if ws.store.has(entry.key):
            journal.remove(entry.key)
    if report.possibly_billed:
        notices.append(
            f"{report.possibly_billed} credits may have been billed for create requests whose "
            "response was lost; check the Runway dashboard"
        )
    if held:
        names = ", ".join(f"{name} ({credits} credits)" for name, credits in sorted(held.items()))
        notices.append(
            f"not sent again, because an earlier create may already have been billed: {names}; "
            f"{sum(held.values())} credits at stake. Check the Runway dashboard, then run again with "
            "--resubmit-ambiguous to submit them again"
        )
    differ = [
        f"{r.name} {r.credits_api_estimate} (vidspec {r.credits_estimated})"
        for r in report.results
        if r.credits_api_estimate is not None and r.credits_api_estimate != r.credits_estimated
    ]
    if differ:
        notices.append(
            "Runway's estimate differs from vidspec's price list: " + ", ".join(differ) + " credits; the "
            "ledger keeps both (and what was charged)"
        )
    return report, notices, (status, budget.this_run)


class _CachedOnly:
    """Everything is cached: nothing may be produced (and no key is needed)."""

    backend = RUNWAY

    def limit_for(self, asset: Any) -> int:
        return 1

    async def produce(self, asset: Any, key: str, deps: Any, emit: Emit, slot: Any) -> Any:
        raise VidspecError(f"'{asset.name}' is not cached")

    async def refetch(
        self, asset: Any, key: str, record: Any, deps: Any, emit: Emit, slot: Any
    ) -> Any:  # the file was damaged after the plan checked it
        raise AssetFailed(f"the cached file of '{asset.name}' changed during the build; run the build again")


def _write_lock(ws: Workspace, report: BuildReport) -> Path:
    lock = Lock()
    by_name = ws.graph.by_name()
    made = {r.name for r in report.results}
    if ws.lock is not None:  # a --target build leaves what it did not run as the lockfile had it
        lock.assets.update({n: e for n, e in ws.lock.assets.items() if n in by_name and n not in made})
    for r in report.results:
        hit = ws.store.get(r.key)
        if hit is None:
            continue
        rec, _ = hit
        asset = by_name[r.name]
        lock.assets[r.name] = LockEntry(
            key=r.key,
            kind=r.kind,
            model=r.model,
            task_id=rec.task_id,
            output_sha256=rec.output_sha256,
            duration=rec.duration,
            seed=asset.seed,
            credits_estimated=asset.credits,
            credits_charged=rec.credits_charged,
            parts=ws.parts[r.name],
            reroll=ws.takes[r.name].lock_note() if r.name in ws.takes else None,
        )
    if ws.lock is not None and ws.lock.dumps() == lock.dumps():
        return lock_path(ws.spec)
    return write_lock(ws.spec, lock)


def _write_ledger(
    ws: Workspace, plan: Plan, report: BuildReport, output: Path, outcome: BuildOutcome | None = None
) -> Path:
    from vidspec.app.views.plan import budget_json

    rows = [r.to_json() for r in report.results]  # per asset: vidspec's estimate, Runway's, and the charge
    data: dict[str, Any] = {
        "spec": str(ws.spec),
        "assets": rows,
        "credits_estimated": report.estimated,
        "credits_charged": report.charged,
        "credits_possibly_billed": report.possibly_billed,
        "plan_total_credits": plan.total_credits,
        "failed": [r.name for r in report.failed],
    }
    if outcome is not None and outcome.budget is not None:  # both limits, across runs and for this one
        data["budget"] = budget_json(outcome.budget, outcome.committed)
    path = output.parent / f"{ws.name}.ledger.json"
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
