"""The `vidspec` command. Each command: parse -> core -> view -> exit code.

This is the one place where outcomes become exits: a command returns its code or raises, and main() turns
either into the process's exit status (an exception by its ``exit_code``, see vidspec/errors.py).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, NoReturn

import click

from vidspec import __version__
from vidspec.backends.runway.config import BASE_URL_ENV, DEFAULT_BASE_URL, KEY_ENV

SPEC = click.Path(path_type=Path, dir_okay=True)
ALLOW_PATH = click.option(
    "--allow-path",
    "allow_paths",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder outside the project that inputs may come from (repeatable; also VIDSPEC_ALLOW_PATHS, "
    "a list separated by os.pathsep). Outputs always stay inside the project.",
)

TARGET = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="SCENE[.ASSET]",
    help="Only this scene (or one asset, e.g. intro.video) and what it depends on (repeatable). The film is "
    "cut only when every scene is then available.",
)
REPLACE = click.option(
    "--replace",
    "replace",
    multiple=True,
    metavar="SCENE.ASSET",
    help="A new take of this asset with a new random seed, even though it is cached (repeatable). The old "
    "take stays cached; the lockfile records the seed, and later builds keep using it. The spec is not "
    "rewritten.",
)
CACHE_URL = click.option(
    "--cache-url",
    envvar="VIDSPEC_CACHE_URL",
    metavar="URL",
    help="A team cache behind the local one: s3://bucket/prefix (credentials and endpoint from the AWS "
    "environment) or file:///shared/dir. Env VIDSPEC_CACHE_URL.",
)


def cache_dir_option(what: str = "Cache directory") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--cache-dir as every command that reads the cache takes it; ``what`` says what it is looked in for."""
    return click.option(
        "--cache-dir",
        type=click.Path(path_type=Path),
        envvar="VIDSPEC_CACHE_DIR",
        help=f"{what} (default .vidspec beside the spec; env VIDSPEC_CACHE_DIR).",
    )


EXIT_OK = 0
EXIT_FAILED = 1  # VidspecError.exit_code; validation errors, failed assets and usage errors too
EXIT_WOULD_SPEND = 2  # plan --detailed-exitcode: the next build would spend credits
EXIT_INTERRUPTED = 130


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


def _team_warnings(ws: Any) -> None:
    """The team cache's warnings (down: once; a damaged object ignored), on stderr."""
    for warning in ws.team.warnings if ws.team else ():
        click.echo(f"vidspec: warning: {warning}", err=True)


def _print_diagnostics(diags: Any, *, err: bool) -> None:
    from vidspec.app.views.diagnostics import render_text

    click.echo(render_text(diags), err=err)


ENVIRONMENT = f"""Environment:

\b
  {KEY_ENV}  the Runway API key (never logged); unset: preview builds
  {BASE_URL_ENV}    the API (default {DEFAULT_BASE_URL})
  VIDSPEC_CACHE_DIR    the cache directory (default .vidspec beside the spec)
  VIDSPEC_CACHE_URL    a team cache: s3://bucket/prefix or file:///dir (like --cache-url)
  VIDSPEC_LEASE_TTL    seconds a team-cache lease lives unless renewed (default 300)
  AWS_*                the team cache's credentials, region, endpoint, profile (never logged)
  VIDSPEC_ALLOW_PATHS  folders outside the project that inputs may come from (like --allow-path)
  VIDSPEC_FONT         a .ttf for cards and burned captions (default: Roboto)
  VIDSPEC_DEBUG        1: show the traceback of an internal error
  IMAGEIO_FFMPEG_EXE   the ffmpeg to run (default: imageio-ffmpeg's own)

vidspec reads no .env file, and keeps moviepy from loading one."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=ENVIRONMENT)
@click.version_option(__version__, prog_name="vidspec")
def cli() -> None:
    """vidspec: a declarative video-project compiler for Runway.

    validate and plan a spec for free, build it with Runway (or as a free local preview), and stitch the final cut.
    """


@cli.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help='text: compiler-style lines with hints; json: {"diagnostics": [...]} with file, line and column.',
)
@click.option(
    "--max-credits",
    type=float,
    callback=_credits,
    help="Check against this budget instead of the spec's `budget`.",
)
@ALLOW_PATH
def validate(spec: Path, fmt: str, max_credits: float | None, allow_paths: tuple[Path, ...]) -> int:
    """Check SPEC against every model's real limits. Exit 0 when valid (warnings allowed), 1 on any error."""
    from vidspec.app.views.diagnostics import render_json, render_text
    from vidspec.app.workspace import validate_spec

    result = validate_spec(spec, budget=max_credits, allow=allow_paths)
    diags = result.diagnostics.sorted()
    if fmt == "json":
        click.echo(render_json(diags))
    else:
        scenes = len(result.project.scenes) if result.project else 0
        click.echo(render_text(diags, ok_line=f"{spec}: valid ({scenes} scenes)"))
    return EXIT_FAILED if result.diagnostics.has_errors() or result.project is None else EXIT_OK


@cli.command()
@click.argument("spec", type=SPEC)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (same as --format json).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    help="text (default), json, or markdown: a pull-request comment, stable from run to run.",
)
@click.option(
    "--diff",
    "diff_ref",
    metavar="REF",
    help="Compare with the spec and its input files as they are at this git ref (a branch, tag, HEAD~1, "
    "origin/main): what is added, removed, regenerated (and why), and the change in credits.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing is to be spent, 2 when credits would be (with --diff: when the change spends).",
)
@click.option(
    "--max-credits",
    type=float,
    callback=_credits,
    help="The most the next build may commit (charged, in flight, possibly billed), checked against what it "
    "would spend; the spec's `budget` still holds across runs.",
)
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), help="Cache directory (default .vidspec beside the spec)."
)
@click.option(
    "--backend",
    type=click.Choice(["runway", "preview"]),
    help="Plan for this backend's cache. Default: price a paid (runway) build, and say which backend "
    "the next build uses (runway when RUNWAYML_API_SECRET is set, else the free preview).",
)
@TARGET
@REPLACE
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also save the plan to this file (JSON) for `vidspec build FILE`, which applies exactly it: it "
    "refuses when the spec, an input or the cache changed, and never spends more.",
)
@ALLOW_PATH
@CACHE_URL
def plan(
    spec: Path,
    as_json: bool,
    fmt: str | None,
    diff_ref: str | None,
    detailed_exitcode: bool,
    max_credits: float | None,
    cache_dir: Path | None,
    backend: str | None,
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    out: Path | None,
    allow_paths: tuple[Path, ...],
    cache_url: str | None,
) -> int:
    """Dry run: the credits per scene and per asset, what is cached, and what the next build would spend."""
    from vidspec.app.build import backend_choice, budget_diagnostics, budget_status
    from vidspec.app.plan_file import looks_like_plan
    from vidspec.app.views.plan import plan_json
    from vidspec.app.workspace import RUNWAY, Workspace
    from vidspec.backends.runway.config import RunwayConfig
    from vidspec.errors import BudgetExceeded

    if looks_like_plan(spec):
        raise click.UsageError(f"{spec} is a saved plan: apply it with `vidspec build {spec}`")
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} disagree; give one of them")
    if diff_ref is not None and (targets or replace):
        raise click.UsageError(
            "--diff compares the whole spec at two refs; it takes no --target or --replace"
        )
    choice = backend_choice(backend, RunwayConfig.from_env())  # the rule `build` follows
    namespace = backend or RUNWAY
    # Over budget is a finding about the plan: show the plan, then exit 1.
    ws = Workspace.open(
        spec,
        cache_dir=cache_dir,
        namespace=namespace,
        over_budget_ok=True,
        allow=allow_paths,
        targets=targets,
        replace=replace,
        cache_url=cache_url,
    )
    if len(ws.validated.diagnostics):  # warnings (and budget errors): the plan goes on, the user sees them
        _print_diagnostics(ws.validated.diagnostics.sorted(), err=True)
    p = ws.plan()
    _team_warnings(ws)
    # Both limits against this spec's spend so far (paid builds only: the preview costs nothing).
    money = budget_status(ws, p, max_credits) if namespace == RUNWAY else None
    data = plan_json(
        p, backend=choice.backend, backend_reason=choice.reason, cache_namespace=namespace, money=money
    )
    if ws.team is not None:  # where the `cached (team)` rows came from, and whether it answered
        t = ws.team
        data["team_cache"] = {
            "url": t.url, "down": t.down, "downloaded": t.downloaded, "warnings": list(t.warnings),
        }  # fmt: skip
    if targets or replace:  # what the plan was narrowed to, and the seeds of the new takes
        data.update(targets=list(targets), replace={n: ws.takes[n].seed for n in sorted(ws.replaced)})
    spends = p.to_spend_credits > 0
    if diff_ref is not None:
        from vidspec.app.plan_diff import diff_against_ref
        from vidspec.app.views.plan_diff import diff_json

        data["diff"] = diff_json(diff_against_ref(ws, p, diff_ref, allow_paths, cache_url))
        spends = data["diff"]["to_spend_credits"] > 0
    _show_plan(data, "json" if as_json else fmt or "text")
    if not p.within_budget:
        raise BudgetExceeded(f"over budget: {p.total_credits} credits > {p.budget:g}")
    if ws.validated.diagnostics.has_errors():  # a budget finding the plan's own sum does not repeat
        raise BudgetExceeded("over budget (see the diagnostics above)")
    if money is not None and money.problems():
        _print_diagnostics(budget_diagnostics(ws, money), err=True)
        raise BudgetExceeded("over budget (see the diagnostics above)")
    if out is not None:  # only a plan within both limits is saved: a build could not apply another
        from vidspec.app.plan_file import write_plan

        write_plan(out, ws, p, targets)
        click.echo(f"saved the plan to {out}; apply exactly it with: vidspec build {out}", err=True)
    return EXIT_WOULD_SPEND if detailed_exitcode and spends else EXIT_OK


def _show_plan(data: dict[str, Any], fmt: str) -> None:
    from vidspec.app.views.plan import render_plan
    from vidspec.app.views.plan_diff import render_diff
    from vidspec.app.views.plan_markdown import diff_markdown, plan_markdown

    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
    elif fmt == "markdown":
        click.echo(diff_markdown(data) if "diff" in data else plan_markdown(data), nl=False)
    elif "diff" in data:
        render_diff(data, data["spec"], _console())
    else:
        render_plan(data, _console())


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
    help="The most this run may commit (charged, in flight, possibly billed), checked against what it would "
    "spend; the spec's `budget` still holds across runs.",
)
@click.option(
    "--resubmit-ambiguous",
    is_flag=True,
    help="Send again a create that may already have been billed (its answer was lost, or a build died with it "
    "on the wire). --yes alone never does: check the Runway dashboard first.",
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
@cache_dir_option()
@TARGET
@REPLACE
@click.option("--no-stitch", is_flag=True, help="Generate and cache the assets only.")
@click.option("--force-stitch", is_flag=True, help="Re-encode the final cut even if it is up to date.")
@click.option(
    "--json", "as_json", is_flag=True, help="JSON-lines events on stdout instead of the live display."
)
@ALLOW_PATH
@CACHE_URL
def build(
    spec: Path,
    backend: str | None,
    yes: bool,
    locked: bool,
    concurrency: int | None,
    max_credits: float | None,
    resubmit_ambiguous: bool,
    task_timeout: float,
    poll_scale: float,
    cache_dir: Path | None,
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    no_stitch: bool,
    force_stitch: bool,
    as_json: bool,
    allow_paths: tuple[Path, ...],
    cache_url: str | None,
) -> int:
    """Generate every missing asset, cache it, lock it, and stitch the final cut.

    SPEC may be a saved plan (`vidspec plan SPEC --out FILE`): the build then applies exactly that plan, as
    reviewed (--yes implied), and refuses before spending when the spec, an input or the cache changed."""
    from vidspec.app.build import BuildOptions, choose_backend
    from vidspec.app.build import build as run_build
    from vidspec.app.plan_file import load_plan, looks_like_plan
    from vidspec.app.views.build_summary import build_summary, render_build_summary
    from vidspec.app.views.events import JsonLines, LiveView
    from vidspec.backends.runway.config import RunwayConfig

    runway = RunwayConfig.from_env()  # the one read of RUNWAYML_API_SECRET and RUNWAYML_BASE_URL
    saved = load_plan(spec) if looks_like_plan(spec) else None
    if saved is not None:
        fixed = [f for f, v in (("--target", targets), ("--replace", replace)) if v]
        if backend and backend != saved.backend:
            fixed.append("--backend")
        if fixed:
            raise click.UsageError(
                f"{' and '.join(fixed)}: a saved plan fixes what it builds; make a new plan with them instead"
            )
        spec, backend, yes, targets = saved.spec, saved.backend, True, saved.targets  # reviewed: --yes
        replace = tuple(saved.seeds)
        # Never more than the plan says: its credits cap the run (and --max-credits, when lower).
        max_credits = saved.to_spend if max_credits is None else min(max_credits, saved.to_spend)
    # --locked is about the paid assets in the lockfile: it never falls back to the free preview.
    chosen, notice = choose_backend(backend or ("runway" if locked else None), runway)
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
        runway=runway,
        resubmit_ambiguous=resubmit_ambiguous,
        allow_paths=allow_paths,
        targets=targets,
        replace=replace,
        seeds=saved.seeds if saved is not None else None,
        saved=saved.checker() if saved is not None else None,
        cache_url=cache_url,
    )
    console = _console(stderr=as_json)
    view: Any = JsonLines() if as_json else LiveView(console, 0)

    def confirm(p: Any) -> bool:
        from vidspec.app.views.plan import plan_json, render_plan

        with view.paused():
            render_plan(plan_json(p), console)
            question = f"Spend {p.to_spend_credits} credits (${p.to_spend_credits / 100:.2f})?"
            return click.confirm(question, default=False, err=as_json)

    with view, saved.invalid_spec_is_stale() if saved is not None else nullcontext():
        outcome = run_build(spec, opts, view, confirm, on_stitch_progress=view.stitch_progress)
    if saved is not None:
        outcome.notices.insert(0, f"applied the saved plan {saved.path} ({saved.to_spend} credits planned)")
    summary = build_summary(outcome, chosen)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        render_build_summary(summary, outcome.report, console)
    return EXIT_FAILED if outcome.report.failed else EXIT_OK


@cli.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--check", is_flag=True, help="Exit 1 when the lockfile does not match the spec and the cache (for CI)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@cache_dir_option()
@ALLOW_PATH
@CACHE_URL
def lock(
    spec: Path,
    check: bool,
    as_json: bool,
    cache_dir: Path | None,
    allow_paths: tuple[Path, ...],
    cache_url: str | None,
) -> int:
    """Compare the lockfile with SPEC and the cache: every asset locked with the key the spec gives it now,
    and cached with the output the lockfile records. No API call, nothing spent."""
    from vidspec.app.lock_check import check_lock
    from vidspec.app.workspace import Workspace

    ws = Workspace.open(
        spec, cache_dir=cache_dir, over_budget_ok=True, allow=allow_paths, cache_url=cache_url
    )
    ws.read_through()  # the team cache's copies count as cached (fetched and verified first)
    _team_warnings(ws)
    result = check_lock(ws)
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else result.text(spec))
    return EXIT_FAILED if check and not result.ok else EXIT_OK


@cli.command()
@click.argument("spec", type=SPEC)
@cache_dir_option("Cache directory to take frames from")
@ALLOW_PATH
@CACHE_URL
def storyboard(
    spec: Path, cache_dir: Path | None, allow_paths: tuple[Path, ...], cache_url: str | None
) -> None:
    """Write build/<name>.storyboard.png and .html: one tile per scene, for review before spending."""
    from vidspec.app.storyboard import write_storyboard
    from vidspec.app.workspace import Workspace

    ws = Workspace.open(spec, cache_dir=cache_dir, allow=allow_paths, cache_url=cache_url)
    png, page = write_storyboard(ws, ws.plan())
    click.echo(f"wrote {png}")
    click.echo(f"wrote {page}")


@cli.command()
@click.argument("spec", type=SPEC)
@click.argument("scene")
@click.argument("take", type=click.IntRange(min=1))
@cache_dir_option("Cache directory to look for the take in")
@ALLOW_PATH
def pick(spec: Path, scene: str, take: int, cache_dir: Path | None, allow_paths: tuple[Path, ...]) -> None:
    """Keep take TAKE of SCENE: write its seed and `takes: 1` into the scene, keeping the file's comments,
    order and layout; the next build reuses that take from the cache."""
    from vidspec.app.pick import pick as pick_take
    from vidspec.app.pick import pick_lines

    for line in pick_lines(pick_take(spec, scene, take, cache_dir=cache_dir, allow=allow_paths), spec):
        click.echo(line)


@cli.command()
@click.argument("spec", type=SPEC)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["otio", "fcpxml", "edl"]),
    default="otio",
    show_default=True,
    help="otio (OpenTimelineIO), fcpxml (Final Cut Pro X; Resolve and Premiere import it) or edl (CMX 3600, "
    "picture only).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write <film>.<format> into (default: the film's folder; inside the project).",
)
@click.option(
    "--copy-media", is_flag=True, help="Copy every clip and sound into <film>.media/ beside the timeline."
)
@click.option(
    "--backend",
    type=click.Choice(["runway", "preview"]),
    help="Whose cached assets to use. Default: the one `vidspec build` would use.",
)
@cache_dir_option()
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@ALLOW_PATH
def export(
    spec: Path,
    fmt: str,
    out_dir: Path | None,
    copy_media: bool,
    backend: str | None,
    cache_dir: Path | None,
    as_json: bool,
    allow_paths: tuple[Path, ...],
) -> None:
    """Write the cut as an editable timeline for DaVinci Resolve, Premiere or Final Cut (built assets only):
    one per final cut, as one line each (one JSON object a line with --json)."""
    from vidspec.app.build import choose_backend
    from vidspec.app.export import export as run_export
    from vidspec.backends.runway.config import RunwayConfig

    chosen, _ = choose_backend(backend, RunwayConfig.from_env())
    results = run_export(
        spec,
        fmt,  # type: ignore[arg-type]  # click.Choice checked it
        out_dir=out_dir,
        copy_media=copy_media,
        namespace=chosen,
        cache_dir=cache_dir,
        allow=allow_paths,
    )
    for res in results:  # one line per final cut
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "path": str(res.path),
                        "format": res.format,
                        "frames": res.frames,
                        "fps": res.fps,
                        "duration": res.frames / res.fps,
                        "tracks": res.tracks,
                        "backend": chosen,
                        "media": [str(m) for m in res.media],
                        "copied": res.copied,
                    }
                )
            )
        else:
            files = f"{len(res.media)} media file{'s' if len(res.media) != 1 else ''}"
            click.echo(
                f"wrote {res.path}: {res.tracks} track{'s' if res.tracks != 1 else ''}, {res.frames} frames at "
                f"{res.fps} fps ({res.frames / res.fps:.2f} s), {files} "
                f"{'copied beside it' if res.copied else 'referenced in the cache'}"
            )


@cli.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print the catalogue as JSON (voices and languages too)."
)
@click.option("--voices", is_flag=True, help="List the voice presets and dubbing languages too.")
def models(as_json: bool, voices: bool) -> None:
    """List the model catalogue: model, endpoint, inputs, ratios, durations, price."""
    from vidspec.app.views.models import models_json, render_models

    if as_json:
        click.echo(json.dumps(models_json(), indent=2))
    else:
        render_models(_console(), show_voices=voices)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the spec format."""
    from vidspec.core.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option(
    "--name",
    default="my-film",
    show_default=True,
    help="The project's name: the spec is DIRECTORY/NAME.yaml and the outputs are named after it.",
)
def init(directory: Path, name: str) -> None:
    """Write a small, valid, commented starter project into DIRECTORY."""
    import re

    from vidspec.app.starter import starter_spec
    from vidspec.core.spec import NAME_PATTERN, json_schema
    from vidspec.errors import ConfigError, VidspecError
    from vidspec.store.atomic import atomic_write_text

    if not re.match(NAME_PATTERN, name):
        raise VidspecError(
            f"--name {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    target = directory / f"{name}.yaml"
    if target.exists():
        raise VidspecError(f"{target} exists; not overwriting it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # The schema beside the spec: editors autocomplete offline, and it matches this vidspec exactly.
        atomic_write_text(directory / "vidspec.schema.json", json.dumps(json_schema(), indent=2) + "\n")
        atomic_write_text(target, starter_spec(name))
        gi = directory / ".gitignore"
        if not gi.exists():
            atomic_write_text(gi, ".vidspec/\nbuild/\n")
    except OSError as exc:
        raise ConfigError(f"cannot write the project into {directory}: {exc.strerror}") from None
    click.echo(f"wrote {target}")
    click.echo(f"next: vidspec validate {target} && vidspec plan {target} && vidspec build {target}")


def _register_cache_group() -> None:
    from vidspec.app.cache_commands import cache

    cli.add_command(cache)


_register_cache_group()


def main(argv: list[str] | None = None) -> NoReturn:
    sys.exit(exit_status(argv))


def _interrupted(exc: KeyboardInterrupt) -> str:
    return str(exc) or "interrupted; the cache and lockfile are intact, run the same command to resume"


def exit_status(argv: list[str] | None = None) -> int:
    """Run `vidspec ARGV`; every outcome, error or not, becomes the exit status returned here."""
    from vidspec.errors import InternalError, SpecError, VidspecError

    try:
        code = cli.main(args=argv, prog_name="vidspec", standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort; a build's KeyboardInterrupt says what was in flight and how to resume.
        if isinstance(exc.__cause__, KeyboardInterrupt):
            click.echo(f"vidspec: {_interrupted(exc.__cause__)}", err=True)
        else:  # a question answered with Ctrl-C or end of input: nothing was done
            click.echo("vidspec: aborted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        # Usage errors exit 1, not click's 2: with --detailed-exitcode, 2 means "credits would be spent".
        return EXIT_FAILED
    except VidspecError as exc:
        if isinstance(exc, SpecError) and exc.diagnostics:
            _print_diagnostics(exc.diagnostics, err=True)
        click.echo(f"vidspec: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        click.echo(f"vidspec: {_interrupted(exc)}", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line for users, the traceback on request
        if os.environ.get("VIDSPEC_DEBUG"):
            raise
        click.echo(
            f"vidspec: internal error: {type(exc).__name__}: {exc} (set VIDSPEC_DEBUG=1 for the traceback)",
            err=True,
        )
        return exc.exit_code if isinstance(exc, InternalError) else InternalError.exit_code
    # A command's return value, or click's own exit code (--help, --version); None means success.
    return code if isinstance(code, int) else EXIT_OK
