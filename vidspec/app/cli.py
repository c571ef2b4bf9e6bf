"""The `vidspec` command. Each command: parse -> core -> view -> exit code. Errors become exits here only."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from vidspec import __version__

SPEC = click.Path(path_type=Path, dir_okay=True)


def _credits(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    import math

    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter("must be a finite number of credits, 0 or more")
    return value


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Rich assumes 80 columns when not in a terminal; plans read better wider in CI logs.
    width = None if stream.isatty() else 120
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"vidspec: {message}", err=True)
    sys.exit(code)


def _print_diagnostics(diags: Any, *, err: bool) -> None:
    from vidspec.app.views.diagnostics import render_text

    click.echo(render_text(diags), err=err)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vidspec")
def cli() -> None:
    """vidspec: a declarative video-project compiler for Runway.

    validate and plan a spec for free, build it with Runway (or as a free local preview), and stitch the final cut.
    """


@cli.command()
@click.argument("spec", type=SPEC)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--max-credits",
    type=float,
    callback=_credits,
    help="Check against this budget instead of the spec's `budget`.",
)
def validate(spec: Path, fmt: str, max_credits: float | None) -> None:
    """Check SPEC against every model's real limits. Exit 0 when valid (warnings allowed), 1 on any error."""
    from vidspec.app.views.diagnostics import render_json, render_text
    from vidspec.core.validate import validate_file

    result = validate_file(spec, budget=max_credits)
    diags = result.diagnostics.sorted()
    if fmt == "json":
        click.echo(render_json(diags))
    else:
        scenes = len(result.project.scenes) if result.project else 0
        click.echo(render_text(diags, ok_line=f"{spec}: valid ({scenes} scenes)"))
    sys.exit(1 if result.diagnostics.has_errors() or result.project is None else 0)


@cli.command()
@click.argument("spec", type=SPEC)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 when nothing is to be spent, 2 when credits would be."
)
@click.option(
    "--max-credits",
    type=float,
    callback=_credits,
    help="Budget for this plan (overrides the spec's `budget`).",
)
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), help="Cache directory (default .vidspec beside the spec)."
)
@click.option("--backend", type=click.Choice(["runway", "preview"]), default="runway", show_default=True)
def plan(
    spec: Path,
    as_json: bool,
    detailed_exitcode: bool,
    max_credits: float | None,
    cache_dir: Path | None,
    backend: str,
) -> None:
    """Dry run: the credits per scene and per asset, what is cached, and what the next build would spend."""
    from vidspec.app.views.plan import render_plan
    from vidspec.app.workspace import Workspace

    ws = Workspace.open(spec, cache_dir=cache_dir, namespace=backend, budget=max_credits)
    if len(ws.validated.diagnostics):  # warnings: the plan goes on, but the user should see them
        _print_diagnostics(ws.validated.diagnostics.sorted(), err=True)
    p = ws.plan(max_credits)
    data = p.to_json()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        render_plan(data, _console())
    if not p.within_budget:
        click.echo(f"vidspec: over budget: {p.total_credits} credits > {p.budget:g}", err=True)
        sys.exit(1)
    sys.exit(2 if detailed_exitcode and p.to_spend_credits > 0 else 0)


@cli.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--backend",
    type=click.Choice(["runway", "preview"]),
    help="runway (paid) or preview (free, local). Default: runway when RUNWAYML_API_SECRET is set.",
)
@click.option("--yes", "-y", is_flag=True, help="Allow spending credits without asking.")
@click.option(
    "--locked", is_flag=True, help="Fail, before spending anything, if any asset would be generated (CI)."
)
@click.option("--concurrency", type=click.IntRange(min=1), help="At most N tasks per model at once.")
@click.option(
    "--max-credits",
    type=float,
    callback=_credits,
    help="Budget for this build (overrides the spec's `budget`).",
)
@click.option(
    "--task-timeout", type=float, default=600.0, show_default=True, help="Seconds to wait for one task."
)
@click.option(
    "--poll-scale",
    type=float,
    default=1.0,
    show_default=True,
    hidden=True,
    help="Scale every poll interval (tests).",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    envvar="VIDSPEC_CACHE_DIR",
    help="Cache directory (default .vidspec beside the spec; env VIDSPEC_CACHE_DIR).",
)
@click.option("--no-stitch", is_flag=True, help="Generate and cache the assets only.")
@click.option("--force-stitch", is_flag=True, help="Re-encode the final cut even if it is up to date.")
@click.option(
    "--json", "as_json", is_flag=True, help="JSON-lines events on stdout instead of the live display."
)
def build(
    spec: Path,
    backend: str | None,
    yes: bool,
    locked: bool,
    concurrency: int | None,
    max_credits: float | None,
    task_timeout: float,
    poll_scale: float,
    cache_dir: Path | None,
    no_stitch: bool,
    force_stitch: bool,
    as_json: bool,
) -> None:
    """Generate every missing asset, cache it, lock it, and stitch the final cut."""
    from vidspec.app.build import BuildOptions, choose_backend
    from vidspec.app.build import build as run_build
    from vidspec.app.views.events import JsonLines, LiveView

    # --locked is about the paid assets in the lockfile: it never falls back to the free preview.
    chosen, notice = choose_backend(backend or ("runway" if locked else None))
    if notice:
        click.echo(f"vidspec: {notice}", err=True)
    opts = BuildOptions(
        chosen,
        yes,
        locked,
        concurrency,
        max_credits,
        task_timeout,
        poll_scale,
        cache_dir,
        not no_stitch,
        force_stitch,
        interactive=sys.stdin.isatty() and sys.stdout.isatty(),
    )
    console = _console(stderr=as_json)
    view: Any = JsonLines() if as_json else LiveView(console, 0)

    def confirm(p: Any) -> bool:
        from vidspec.app.views.plan import render_plan

        with view.paused():
            render_plan(p.to_json(), console)
            question = f"Spend {p.to_spend_credits} credits (${p.to_spend_credits / 100:.2f})?"
            return click.confirm(question, default=False, err=as_json)

    with view:
        outcome = run_build(spec, opts, view, confirm, on_stitch_progress=view.stitch_progress)
    report = outcome.report
    summary = {
        "event": "summary", "backend": chosen, "assets": len(report.results),
        "generated": sum(1 for r in report.results if r.state == "done"),
        "cached": sum(1 for r in report.results if r.state == "cached"),
        "failed": [{"asset": r.name, "scene": r.scene, "error": r.error} for r in report.failed],
        "credits_estimated": sum(r.credits_estimated for r in report.results if r.state == "done"),
        "credits_charged": report.charged, "credits_possibly_billed": report.possibly_billed,
        "output": str(outcome.output) if outcome.output else None,
        "stitched": bool(outcome.stitch and not outcome.stitch.skipped),
        "ledger": str(outcome.ledger) if outcome.ledger else None,
        "lockfile": str(outcome.lockfile) if outcome.lockfile else None,
        "notices": outcome.notices, "elapsed": round(report.elapsed, 2),
    }  # fmt: skip
    if as_json:
        click.echo(json.dumps(summary))
    else:
        _print_summary(summary, report, console)
    sys.exit(1 if report.failed else 0)


def _print_summary(summary: dict[str, Any], report: Any, console: Any) -> None:
    from rich.table import Table

    if summary["backend"] == "runway" and report.results:
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


@cli.command()
@click.argument("spec", type=SPEC)
@click.option("--cache-dir", type=click.Path(path_type=Path), envvar="VIDSPEC_CACHE_DIR")
def storyboard(spec: Path, cache_dir: Path | None) -> None:
    """Write build/<name>.storyboard.png and .html: one tile per scene, for review before spending."""
    from vidspec.app.storyboard import write_storyboard
    from vidspec.app.workspace import Workspace

    ws = Workspace.open(spec, cache_dir=cache_dir)
    png, page = write_storyboard(ws, ws.plan())
    click.echo(f"wrote {png}")
    click.echo(f"wrote {page}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--voices", is_flag=True, help="List the voice presets and dubbing languages too.")
def models(as_json: bool, voices: bool) -> None:
    """List the model catalogue: model, endpoint, inputs, ratios, durations, price."""
    from vidspec.core import catalog as cat

    rows = [{
        "model": r.model, "endpoint": r.endpoint, "kind": r.kind, "inputs": sorted(r.inputs),
        "requires": sorted(r.requires), "ratios": list(r.ratios),
        "durations": list(r.durations) if r.durations is not None else None,
        "price": r.price.describe(), "retired": r.retired,
    } for r in cat.CATALOG]  # fmt: skip
    if as_json:
        click.echo(
            json.dumps(
                {"models": rows, "voices": list(cat.VOICES), "dub_languages": list(cat.DUB_LANGUAGES)},
                indent=2,
            )
        )
        return
    from rich.table import Table

    table = Table(title="vidspec model catalogue (credits; 1 credit = $0.01)")
    for col in ("model", "endpoint", "inputs", "ratios", "durations", "price"):
        table.add_column(col, overflow="fold")
    for r in cat.CATALOG:
        inputs = ", ".join(f"{i}{'' if i in r.requires else '?'}" for i in sorted(r.inputs))
        name = r.model + (" (retired)" if r.retired else "")
        durations = r.durations_text() if r.kind == "video" else "0.5-30 s" if r.kind == "sound" else "-"
        table.add_row(name, r.endpoint, inputs, ", ".join(r.ratios) or "-", durations, r.price.describe())
    con = _console()
    con.print(table)
    con.print("? = optional input")
    if voices:
        con.print("voices: " + ", ".join(cat.VOICES))
        con.print("dubbing languages: " + ", ".join(cat.DUB_LANGUAGES))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the spec format."""
    from vidspec.core.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--name", default="my-film", show_default=True)
def init(directory: Path, name: str) -> None:
    """Write a small, valid, commented starter project into DIRECTORY."""
    import re

    from vidspec.app.starter import starter_spec
    from vidspec.core.spec import NAME_PATTERN, json_schema
    from vidspec.store.atomic import atomic_write_text

    if not re.match(NAME_PATTERN, name):
        _fail(f"--name {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit")
    target = directory / f"{name}.yaml"
    if target.exists():
        _fail(f"{target} exists; not overwriting it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # The schema beside the spec: editors autocomplete offline, and it matches this vidspec exactly.
        atomic_write_text(directory / "vidspec.schema.json", json.dumps(json_schema(), indent=2) + "\n")
        atomic_write_text(target, starter_spec(name))
        gi = directory / ".gitignore"
        if not gi.exists():
            atomic_write_text(gi, ".vidspec/\nbuild/\n")
    except OSError as exc:
        _fail(f"cannot write the project into {directory}: {exc.strerror}")
    click.echo(f"wrote {target}")
    click.echo(f"next: vidspec validate {target} && vidspec plan {target} && vidspec build {target}")


def main(argv: list[str] | None = None) -> None:
    from vidspec.errors import VidspecError

    try:
        cli.main(args=argv, prog_name="vidspec", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("vidspec: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        # Usage errors exit 1, not click's 2: with --detailed-exitcode, 2 means "credits would be spent".
        sys.exit(1)
    except VidspecError as exc:
        diags = getattr(exc, "diagnostics", None)
        if diags:
            _print_diagnostics(diags, err=True)
        click.echo(f"vidspec: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(
            "vidspec: interrupted; the cache and lockfile are intact, run the same command to resume",
            err=True,
        )
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: one line for users, the traceback on request
        if os.environ.get("VIDSPEC_DEBUG"):
            raise
        click.echo(
            f"vidspec: internal error: {type(exc).__name__}: {exc} (set VIDSPEC_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(70)
    sys.exit(0)
