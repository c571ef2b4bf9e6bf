"""Saved plans on disk: `plan --out FILE` writes one, `build FILE` reads it back and checks it still holds."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidspec.app.workspace import Workspace
from vidspec.core.keys import FileDigests
from vidspec.core.plan import Plan
from vidspec.core.saved_plan import (
    MAX_PLAN_BYTES,
    PLAN_FORMAT,
    check_document,
    plan_document,
    safe_spec_path,
    stale_reasons,
)
from vidspec.core.source import _read_regular as read_regular  # one reader of untrusted files: no FIFO hangs
from vidspec.errors import ConfigError, PlanFileError, SpecError, StalePlan
from vidspec.store.atomic import atomic_write_text


def spec_relative_to(out: Path, spec: Path) -> str:
    """The spec as the plan names it: relative to the plan file's folder, which must hold it (or a folder
    above it does), so that `build FILE` finds it without leaving that folder."""
    folder = out.resolve().parent
    rel = Path(os.path.relpath(spec.resolve(), folder))
    if rel.parts and rel.parts[0] == "..":
        raise ConfigError(
            f"--out {out}: write the plan in the spec's folder or a folder above it ({spec.resolve().parent}); "
            "a saved plan only names a spec below its own folder"
        )
    return rel.as_posix()


def document(ws: Workspace, plan: Plan, spec_rel: str, targets: tuple[str, ...]) -> dict[str, Any]:
    seeds = {n: ws.takes[n].seed for n in ws.replaced}
    return plan_document(
        plan,
        ws.graph,
        ws.keys,
        FileDigests(),
        spec_file=ws.spec,
        spec_rel=spec_rel,
        backend=ws.namespace,
        targets=targets,
        seeds=seeds,
    )


def write_plan(out: Path, ws: Workspace, plan: Plan, targets: tuple[str, ...]) -> dict[str, Any]:
    """Write the saved plan atomically; the document written."""
    if out.suffix.lower() != ".json":
        raise ConfigError(f"--out {out}: name it *.json (that is how `vidspec build` knows a saved plan)")
    if out.exists() and not out.is_file():
        raise ConfigError(f"--out {out}: not a regular file")
    if out.resolve() in ws.protected_files():
        raise ConfigError(f"--out {out}: that is the spec, its lockfile or an input; it would be overwritten")
    if not out.resolve().parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist")
    doc = document(ws, plan, spec_relative_to(out, ws.spec), targets)
    atomic_write_text(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return doc


def looks_like_plan(path: Path) -> bool:
    """A saved plan is a .json file that says so at its top level (a JSON spec never does). A damaged one
    that still carries the marker counts too, so that load_plan says what is wrong with it."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        raw = read_regular(path)
    except Exception:  # unreadable, or not a regular file: the spec loader says which
        return False
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return f'"format": "{PLAN_FORMAT}"'.encode() in raw[:4096]
    return isinstance(data, dict) and data.get("format") == PLAN_FORMAT


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    doc: dict[str, Any]
    spec: Path

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.doc["targets"])

    @property
    def seeds(self) -> dict[str, int]:
        return dict(self.doc["replace"])

    @property
    def backend(self) -> str:
        return str(self.doc["backend"])

    @property
    def to_spend(self) -> int:
        return int(self.doc["to_spend_credits"])

    def command(self) -> str:
        """The `vidspec plan` that makes this plan again (the same targets; new takes get new seeds)."""
        import shlex

        def here(p: Path) -> str:
            rel = os.path.relpath(p)
            return rel if not rel.startswith("..") else str(p)

        flags = [f"--target {shlex.quote(t)}" for t in self.targets]
        flags += [f"--replace {shlex.quote(n)}" for n in self.seeds]
        flags += ["--backend preview"] if self.backend != "runway" else []
        words = ["vidspec plan", shlex.quote(here(self.spec)), *flags, "--out", shlex.quote(here(self.path))]
        return " ".join(words)

    @contextmanager
    def invalid_spec_is_stale(self) -> Iterator[None]:
        """A spec (or input) that no longer validates: the plan is stale, and the diagnostics say why."""
        try:
            yield
        except SpecError as exc:
            exc.message = (
                f"the saved plan is stale; nothing was spent ({self.path}): the spec or its inputs no longer "
                f"validate (above); fix them, then review a new plan: {self.command()}"
            )
            raise

    def checker(self) -> Callable[[Workspace, Plan], None]:
        """For BuildOptions.saved: the plan made now must be the saved one, or nothing is spent."""

        def check(ws: Workspace, plan: Plan) -> None:
            now = document(ws, plan, self.doc["spec"], self.targets)
            reasons = stale_reasons(self.doc, now)
            if reasons:
                raise StalePlan(
                    f"the saved plan is stale; nothing was spent ({self.path}):\n  "
                    + "\n  ".join(reasons)
                    + f"\nreview a new plan: {self.command()}"
                )

        return check


def load_plan(path: Path) -> SavedPlan:
    """Read and check a saved plan: its shape, its checksum, and a spec below its own folder."""
    try:
        raw = read_regular(path)
    except OSError as exc:
        raise PlanFileError(f"cannot read the saved plan {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # a FIFO, a device: never read
        raise PlanFileError(f"the saved plan {path} is not a regular file ({exc})") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanFileError(f"the saved plan {path} is too big ({len(raw)} bytes) to be one vidspec wrote")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise PlanFileError(
            f"the saved plan {path} is not valid JSON{where}: it is damaged or cut short"
        ) from None
    except RecursionError:
        raise PlanFileError(f"the saved plan {path} is nested too deeply to be one vidspec wrote") from None
    doc = check_document(data)
    folder = path.resolve().parent
    spec = folder / safe_spec_path(doc["spec"])
    real = spec.resolve()
    if folder != real.parent and folder not in real.parents:
        raise PlanFileError(
            f"the saved plan names the spec {doc['spec']!r}, which resolves to {real}, outside the plan's "
            "folder; a plan may only name a spec in its own folder or under it"
        )
    return SavedPlan(path, doc, spec)
