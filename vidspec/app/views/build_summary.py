"""The end of a build: the summary event (the `build --json` contract) and its text, with the cost ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from vidspec.app.workspace import RUNWAY
from vidspec.backends.executor import BuildReport

if TYPE_CHECKING:  # the view only reads an outcome; it never runs a build
    from vidspec.app.build import BuildOutcome


def build_summary(outcome: BuildOutcome, backend: str) -> dict[str, Any]:
    report = outcome.report
    return {
        "event": "summary", "backend": backend, "assets": len(report.results),
        "generated": report.generated, "cached": report.cached,
        "failed": [{"asset": r.name, "scene": r.scene, "error": r.error} for r in report.failed],
        "credits_estimated": report.estimated,
        "credits_charged": report.charged, "credits_possibly_billed": report.possibly_billed,
        "output": str(outcome.output) if outcome.output else None,
        "stitched": bool(outcome.stitch and not outcome.stitch.skipped),
        "ledger": str(outcome.ledger) if outcome.ledger else None,
        "lockfile": str(outcome.lockfile) if outcome.lockfile else None,
        "notices": outcome.notices, "elapsed": round(report.elapsed, 2),
    }  # fmt: skip


def render_build_summary(summary: dict[str, Any], report: BuildReport, console: Console) -> None:
    if summary["backend"] == RUNWAY and report.results:
        table = Table(title="cost ledger (credits)", box=None)
        for col in ("asset", "state", "estimated", "charged"):
            table.add_column(col, justify="right" if col in ("estimated", "charged") else "left")
        for r in report.results:
            charged = "-" if r.credits_charged is None else str(r.credits_charged)
            table.add_row(r.name, r.state, str(r.credits_estimated), charged)
        console.print(table)
    console.print(
        f"{summary['generated']} generated, {summary['cached']} cached, {len(summary['failed'])} failed; "
        f"charged {summary['credits_charged']} credits"
    )
    for note in summary["notices"]:
        console.print(f"[yellow]note:[/] {note}")
    for f in summary["failed"]:
        console.print(f"[red]failed:[/] {f['asset']}: {f['error']}")
    if summary["output"]:
        verb = "wrote" if summary["stitched"] else "up to date:"
        console.print(f"{verb} {summary['output']}")
