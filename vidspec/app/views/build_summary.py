"""The end of a build: the summary event (the `build --json` contract) and its text, with the cost ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from vidspec.app.views.plan import budget_json, budget_lines
from vidspec.app.workspace import RUNWAY
from vidspec.backends.executor import BuildReport

if TYPE_CHECKING:  # the view only reads an outcome; it never runs a build
    from vidspec.app.build import BuildOutcome


def build_summary(outcome: BuildOutcome, backend: str) -> dict[str, Any]:
    report = outcome.report
    summary: dict[str, Any] = {
        "event": "summary", "backend": backend, "assets": len(report.results),
        "generated": report.generated, "cached": report.cached, "refetched": report.refetched,
        "failed": [{"asset": r.name, "scene": r.scene, "error": r.error} for r in report.failed],
        "credits_estimated": report.estimated,
        "credits_charged": report.charged, "credits_possibly_billed": report.possibly_billed,
        "output": str(outcome.output) if outcome.output else None,
        "outputs": [str(p) for p in outcome.outputs],
        "outputs_stitched": [not s.skipped for s in outcome.stitches],
        "stitched": bool(outcome.stitch and not outcome.stitch.skipped),
        "stitch": outcome.stitch.encodes() if outcome.stitch else None,
        "ledger": str(outcome.ledger) if outcome.ledger else None,
        "lockfile": str(outcome.lockfile) if outcome.lockfile else None,
        "notices": outcome.notices, "elapsed": round(report.elapsed, 2),
    }  # fmt: skip
    team = outcome.workspace.team if outcome.workspace is not None else None  # a bare outcome (tests)
    if team is not None:  # the team cache: what came from it and went to it
        summary["team_cache"] = {
            "url": team.url, "downloaded": team.downloaded, "uploaded": team.uploaded, "down": team.down,
        }  # fmt: skip
    if outcome.budget is not None:  # a Runway build: both limits, and what this build committed
        summary["budget"] = budget_json(outcome.budget, outcome.committed)
    return summary


def render_build_summary(summary: dict[str, Any], report: BuildReport, console: Console) -> None:
    if summary["backend"] == RUNWAY and report.results:
        table = Table(title="cost ledger (credits)", box=None)
        # Runway's own estimate (from the create answers), when this build has any
        runway_est = any(r.credits_api_estimate is not None for r in report.results)
        cols = ("asset", "state", "estimated", *(("runway estimate",) if runway_est else ()), "charged")
        for col in cols:
            table.add_column(col, justify="left" if col in ("asset", "state") else "right")
        for r in report.results:
            charged = "-" if r.credits_charged is None else str(r.credits_charged)
            api = "-" if r.credits_api_estimate is None else str(r.credits_api_estimate)
            table.add_row(r.name, r.state, str(r.credits_estimated), *((api,) if runway_est else ()), charged)
        console.print(table)
    again = f"{summary['refetched']} fetched again (free), " if summary.get("refetched") else ""
    console.print(
        f"{summary['generated']} generated, {summary['cached']} cached, {again}{len(summary['failed'])} failed; "
        f"charged {summary['credits_charged']} credits"
    )
    if summary.get("budget"):
        for line in budget_lines(summary["budget"], after=True):
            console.print(line)
    if summary.get("team_cache"):
        t = summary["team_cache"]
        state = " (unreachable: local cache only)" if t["down"] else ""
        console.print(f"team cache {t['url']}{state}: {t['downloaded']} downloaded, {t['uploaded']} uploaded")
    for note in summary["notices"]:
        console.print(f"[yellow]note:[/] {note}")
    for f in summary["failed"]:
        console.print(f"[red]failed:[/] {f['asset']}: {f['error']}")
    if summary["output"] and len(summary.get("outputs") or ()) > 1:
        for path, stitched in zip(summary["outputs"], summary["outputs_stitched"], strict=True):
            console.print(f"{'wrote' if stitched else 'up to date:'} {path}")
    elif summary["output"]:
        verb = "wrote" if summary["stitched"] else "up to date:"
        console.print(f"{verb} {summary['output']}")
        st = summary.get("stitch") or {}
        if st.get("method") == "segments":
            console.print(
                f"picture: {len(st['segments_encoded'])} segment(s) encoded, {st['segments_reused']} reused"
            )
