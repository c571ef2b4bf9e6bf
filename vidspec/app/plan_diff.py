"""`plan --diff REF`: plan the spec as it is at a git ref against the same cache, and compare with this plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vidspec.app.gitref import spec_at_ref
from vidspec.app.workspace import Workspace
from vidspec.core.diagnostics import Diagnostic
from vidspec.core.graph import Graph
from vidspec.core.keys import FileDigests
from vidspec.core.plan import Plan
from vidspec.core.plan_diff import PlanDiff, Side, diff_plans
from vidspec.errors import SpecError


@dataclass(frozen=True)
class RefDiff:
    diff: PlanDiff
    ref: str
    commit: str
    path: str  # the spec's path in the repository


def input_digests(graph: Graph) -> dict[Path, str]:
    digest = FileDigests()
    return {path: digest(path) for asset in graph.assets for path in asset.files()}


def diff_against_ref(
    ws: Workspace, plan: Plan, ref: str, allow: Sequence[Path | str] = (), cache_url: str | None = None
) -> RefDiff:
    """``plan``: this workspace's plan, already made. The base is planned with the same cache (and team cache,
    ``cache_url``), backend namespace and allowed folders, so that only the spec and its inputs differ."""
    head = Side(plan, ws.parts, input_digests(ws.graph))
    with spec_at_ref(ws.spec, ref) as snap:
        base = None
        if snap.spec is not None:
            try:
                old = Workspace.open(
                    snap.spec,
                    cache_dir=ws.cache.root,
                    namespace=ws.namespace,
                    over_budget_ok=True,
                    allow=allow,
                    root=snap.root,
                    cache_url=cache_url,
                )
            except SpecError as exc:  # its diagnostics name the spec as git does, never the temporary copy
                where = f"{ref}:{snap.path}"
                diags = [
                    dataclasses.replace(d, file=where) if isinstance(d, Diagnostic) else d
                    for d in exc.diagnostics
                ]
                raise SpecError(
                    f"--diff: the spec at {ref} has errors, so it cannot be planned", diags
                ) from None
            base = Side(old.plan(), old.parts, input_digests(old.graph))
        return RefDiff(diff_plans(base, head), ref, snap.commit, snap.path)
