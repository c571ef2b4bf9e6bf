"""`vidspec build`: preflight, consent, run the graph on a backend, lockfile, ledger, then the final cut."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidspec.app.workspace import PREVIEW, RUNWAY, Workspace
from vidspec.backends.executor import BuildReport, Emit, Executor, Producer
from vidspec.backends.runway.config import KEY_ENV, RunwayConfig
from vidspec.core.budget import over_budget
from vidspec.core.lock import Lock, LockEntry
from vidspec.core.plan import Plan
from vidspec.errors import BudgetExceeded, ConfigError, ConsentRequired, LockedError, VidspecError
from vidspec.store.atomic import atomic_write_text
from vidspec.store.lockfile import lock_path, write_lock


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


def choose_backend(requested: str | None, config: RunwayConfig | None = None) -> tuple[str, str | None]:
    """--backend if given; runway when a key is set; otherwise the free preview, with a notice."""
    if requested:
        return requested, None
    if (config if config is not None else RunwayConfig.from_env()).has_key:
        return RUNWAY, None
    return PREVIEW, f"no {KEY_ENV} found: rendering a free local animatic (--backend preview)"


def _check_output(ws: Workspace, output: Path) -> None:
    """Before anything is spent: the output can be written, and writing it destroys nothing of the user's."""
    if output.is_dir():
        raise ConfigError(f"the output path {output} is a directory; set output.path to a file")
    protected = {ws.spec.resolve(), lock_path(ws.spec)}
    protected |= {p.resolve() for a in ws.graph.assets for p in a.files()}
    if ws.graph.project.music is not None:
        protected.add((ws.graph.base / ws.graph.project.music.path).resolve())
    if output.resolve() in protected:
        raise ConfigError(f"the output path {output} is an input of the project; it would be overwritten")
    directory = output.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".vidspec-write-test"):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot write to {directory}: {exc.strerror}") from None


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
    ws = Workspace.open(
        spec, cache_dir=options.cache_dir, namespace=options.backend, budget=options.max_credits
    )
    plan = ws.plan(options.max_credits)
    over = over_budget(plan.total_credits, plan.budget)
    if over is not None:
        raise BudgetExceeded(over)
    if options.locked:
        _locked_check(ws, plan)
    output = ws.output_path()
    emit(
        {
            "event": "plan",
            "backend": options.backend,
            "total_credits": plan.total_credits,
            "to_spend_credits": plan.to_spend_credits if options.backend == RUNWAY else 0,
            "assets": len(plan.rows),
            "output": str(output),
        }
    )
    _check_output(ws, output)
    _check_inputs(ws)
    with ws.cache.exclusive():
        if options.backend == RUNWAY:
            report, notices = _run_runway(ws, plan, options, emit, confirm)
        else:
            report, notices = _run_preview(ws, emit)
    outcome = BuildOutcome(ws, plan, report, notices=notices)
    if options.backend == RUNWAY:
        outcome.lockfile = _write_lock(ws, report)
        outcome.ledger = _write_ledger(ws, plan, report, output)
    if report.failed or not options.stitch:
        return outcome
    from vidspec.media.stitch import stitch
    from vidspec.media.timeline import build_timeline

    paths = {r.name: r.path for r in report.results if r.path is not None}
    timeline = build_timeline(
        ws.graph, paths, ws.keys, output, preset="veryfast" if options.backend == PREVIEW else None
    )
    emit({"event": "stitch", "state": "start", "output": str(output)})
    outcome.stitch = stitch(timeline, progress=on_stitch_progress, force=options.force_stitch)
    outcome.output = output
    emit(
        {
            "event": "stitch",
            "state": "skipped" if outcome.stitch.skipped else "done",
            "output": str(output),
            "duration": outcome.stitch.duration,
            "fast_path": outcome.stitch.fast_path,
        }
    )
    return outcome


def _run_preview(ws: Workspace, emit: Emit) -> tuple[BuildReport, list[str]]:
    from vidspec.backends.preview.producer import PreviewProducer
    from vidspec.media.timeline import output_ratio

    by_name = ws.graph.by_name()
    texts = {  # dub asset -> the narration's text, to speak offline
        a.name: by_name[a.narration.name].prompt or "" for a in ws.graph.assets if a.narration is not None
    }
    producer = PreviewProducer(
        ws.store,
        out_ratio=output_ratio(ws.graph),
        fps=ws.graph.project.output.fps,
        narration_texts=texts,
    )
    report = _execute(ws, producer, emit)
    return report, producer.notices


def _execute(ws: Workspace, producer: Producer, emit: Emit) -> BuildReport:
    executor = Executor(ws.store, producer, emit)
    return asyncio.run(executor.run(list(ws.graph.assets), ws.keys))


def _run_runway(
    ws: Workspace, plan: Plan, options: BuildOptions, emit: Emit, confirm: Callable[[Plan], bool]
) -> tuple[BuildReport, list[str]]:
    from vidspec.backends.runway.client import RunwayClient
    from vidspec.backends.runway.producer import Budget, RunwayOptions, RunwayProducer

    notices: list[str] = []
    to_spend = plan.to_spend_credits
    journal = ws.cache.journal
    pending = [e for e in journal.entries() if e.key in set(ws.keys.values())]
    if to_spend == 0 and not pending:
        return _execute(ws, _CachedOnly(), emit), notices
    if not options.runway.has_key:
        raise ConfigError(
            f"{to_spend} credits of assets need generating, but {KEY_ENV} is not set; "
            "set it, or use --backend preview for a free animatic"
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

    async def run() -> BuildReport:
        async with RunwayClient.from_config(options.runway) as client:
            org = await client.organization()
            if org.credit_balance is not None and org.credit_balance < to_spend:
                raise BudgetExceeded(
                    f"the organisation has {org.credit_balance} credits; this build needs {to_spend}"
                )
            budget = Budget(plan.budget)  # --max-credits or the spec's budget, resolved once by the plan
            ropts = RunwayOptions(
                options.concurrency, options.task_timeout, options.poll_scale, resubmit_lost=consent
            )
            producer = RunwayProducer(client, ws.store, journal, org, ropts, budget)
            return await Executor(ws.store, producer, emit).run(list(ws.graph.assets), ws.keys)

    report = asyncio.run(run())
    for entry in journal.entries():  # finished tasks no longer need their journal line
        if ws.store.has(entry.key):
            journal.remove(entry.key)
    if report.possibly_billed:
        notices.append(
            f"{report.possibly_billed} credits may have been billed for create requests whose "
            "response was lost; check the Runway dashboard"
        )
    return report, notices


class _CachedOnly:
    """Everything is cached: nothing may be produced (and no key is needed)."""

    backend = RUNWAY

    def limit_for(self, asset: Any) -> int:
        return 1

    async def produce(self, asset: Any, key: str, deps: Any, emit: Emit, slot: Any) -> Any:
        raise VidspecError(f"'{asset.name}' is not cached")


def _write_lock(ws: Workspace, report: BuildReport) -> Path:
    lock = Lock()
    by_name = ws.graph.by_name()
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
        )
    if ws.lock is not None and ws.lock.dumps() == lock.dumps():
        return lock_path(ws.spec)
    return write_lock(ws.spec, lock)


def _write_ledger(ws: Workspace, plan: Plan, report: BuildReport, output: Path) -> Path:
    rows = [r.to_json() for r in report.results]
    data = {
        "spec": str(ws.spec),
        "assets": rows,
        "credits_estimated": report.estimated,
        "credits_charged": report.charged,
        "credits_possibly_billed": report.possibly_billed,
        "plan_total_credits": plan.total_credits,
        "failed": [r.name for r in report.failed],
    }
    path = output.parent / f"{ws.name}.ledger.json"
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
