"""The plan as JSON (the contract) and as a rich table rendered from that JSON; the reasons in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vidspec.app.views.plan_summary import summary_line
from vidspec.core.budget import BudgetStatus, Spend
from vidspec.core.graph import Asset
from vidspec.core.outputs import project_outputs
from vidspec.core.plan import Plan, PlanRow, Reason
from vidspec.core.plan_summary import plan_counts
from vidspec.core.pricing import usd
from vidspec.core.validate import project_name

ACTION_STYLE = {
    "cached": "green", "create": "yellow", "regenerate": "magenta", "reuse": "cyan", "refetch": "blue",
}  # fmt: skip
KIND_LABELS: dict[str, str] = {
    "image": "reference image", "video": "video", "narration": "narration", "sfx": "sound", "dub": "dub",
}  # fmt: skip
# A request field in words, by vidspec's name for it (others read as their name: ratio, seed, ...).
FIELD_WORDS = {
    "prompt": "prompt", "image": "reference image", "references": "reference images", "video": "input video",
    "character": "character", "performance": "performance video", "narration": "narration audio",
    "voice": "voice", "language": "language", "public_figure_threshold": "moderation setting",
}  # fmt: skip
CHANGE_WORDS = {"changed": "changed", "bytes_changed": "bytes changed", "removed": "removed"}
CACHE_WORDS = {"damaged": "cached file damaged (sha256 mismatch)", "missing": "cached file missing"}


def reason_text(reason: Reason) -> str:
    if reason.code == "cached":
        return "cached"
    if reason.code == "new":
        return "new asset"
    if reason.code == "missing":
        return "in the lockfile but missing from the cache"
    if reason.code == "damaged":
        return CACHE_WORDS["damaged"]
    if reason.code == "file_missing":
        return CACHE_WORDS["missing"]
    if reason.code == "task_gone":
        return f"{CACHE_WORDS[reason.cache or 'missing']}, and its task is gone from Runway"
    if reason.code == "replaced":
        return "--replace: a new take with a new seed"
    if reason.code == "same_request":
        return f"same request as '{reason.same_as}'"
    if reason.code == "dep_regenerated" and reason.dependency is not None:
        dep = reason.dependency
        return f"depends on regenerated {KIND_LABELS[dep.kind]} '{dep.scene_id}'"
    words = [f"{FIELD_WORDS.get(c.field, c.field)} {CHANGE_WORDS[c.change]}" for c in reason.changes]
    return ", ".join(words) or "request changed"


def row_reason(row: PlanRow) -> str:
    """The reason in words, with the cache tier of a hit and a lease another builder holds."""
    if row.cached:
        return f"cached ({row.tier})" if row.tier == "team" else "cached"
    text = reason_text(row.reason)
    if row.elsewhere:
        text += f"; being generated elsewhere by {row.elsewhere}: a build waits for it"
    return text


def asset_label(asset: Asset) -> str:
    """What a plan row calls an asset: its kind, your footage, or the clip made for one output frame."""
    if asset.is_footage:
        return "your footage"
    if asset.for_ratio is not None:
        return f"video for {asset.for_ratio}"
    return KIND_LABELS[asset.kind]


def outputs_json(plan: Plan) -> list[dict[str, Any]]:
    """The final cuts a build writes (paths as the spec gives them, relative to its folder)."""
    g = plan.graph
    name = project_name(g.project, Path(plan.spec))
    return [
        {"path": out.path or f"build/{name}.mp4", "ratio": out.ratio, "fit": out.output.fit}
        for out in project_outputs(g.project, g.scenes, name)
    ]


def is_take(asset: Asset) -> bool:
    """One of a scene's takes: its generated video (not footage, not a ratio override's clip)."""
    return asset.kind == "video" and not asset.is_footage and asset.for_ratio is None


def take_label(asset: Asset, takes: int) -> str:
    """An asset's kind in words; a take of a scene with several says which one the film uses."""
    label = asset_label(asset)
    if takes > 1 and is_take(asset):
        label += f" take {asset.take}/{takes}" + (" (in the film)" if asset.take == 1 else "")
    return label


def takes_note(scene: dict[str, Any], spec: str) -> str | None:
    """What `plan` says of a scene with takes: the film uses take 1 until one is picked."""
    if "takes" not in scene:
        return None
    return (
        f"scene '{scene['id']}': {scene['takes']} takes, priced as {scene['takes']} creates; the film uses take "
        f"{scene['film_take']} until you choose one with `vidspec pick {spec} {scene['id']} TAKE`"
    )


def plan_json(
    plan: Plan,
    *,
    backend: str | None = None,
    backend_reason: str | None = None,
    cache_namespace: str | None = None,
    money: BudgetStatus | None = None,
) -> dict[str, Any]:
    """`plan --json`: the contract (format_version 1).

    ``money``: both limits against this spec's spend so far (budget_json); with it, ``budget_left`` and
    ``within_budget`` are about the spec's budget across runs, not a build from nothing.

    ``backend`` is the one the next build will use (and ``backend_reason`` why); ``cache_namespace`` is the
    cache the plan looked in (runway unless --backend preview), so the credits are a paid build's there."""
    scenes = []
    for rs in plan.graph.scenes:
        rows = [r for r in plan.rows if r.asset.scene_id == rs.id]
        takes = int(rs.get("takes") or 1)
        scenes.append({
            "id": rs.id,
            "credits": sum(r.asset.credits for r in rows),
            **({"takes": takes, "film_take": 1} if takes > 1 else {}),
            "assets": [{
                "kind": r.asset.kind,
                "label": take_label(r.asset, takes),
                **({"take": r.asset.take, "seed": r.asset.seed} if takes > 1 and is_take(r.asset) else {}),
                "name": r.asset.name,
                "model": r.asset.row.model,
                "endpoint": r.asset.row.endpoint,
                "credits": r.asset.credits,
                "cached": r.cached,
                "action": r.action,
                "reason": row_reason(r) + (" (cut locally, free)" if r.asset.is_footage else ""),
                "reason_code": r.reason.code,
                "key": r.key,
                "tier": r.tier,
                "elsewhere": r.elsewhere,
            } for r in rows],
        })  # fmt: skip
    data = {
        "format_version": "1",
        "spec": plan.spec,
        "total_credits": plan.total_credits,
        "to_spend_credits": plan.to_spend_credits,
        "usd": usd(plan.total_credits),
        "to_spend_usd": usd(plan.to_spend_credits),
        "budget": plan.budget,
        "budget_left": None if plan.budget is None else plan.budget - plan.total_credits,
        "within_budget": plan.within_budget,
        "scenes": scenes,
        "outputs": outputs_json(plan),
    }
    if backend is not None:
        data.update(backend=backend, backend_reason=backend_reason, cache_namespace=cache_namespace)
    counts = plan_counts(plan)
    data["counts"] = counts.as_dict()
    data["summary"] = summary_line(counts.as_dict(), counts.to_spend, free=cache_namespace == "preview")
    data["removed"] = list(plan.removed)
    if money is not None:
        data.update(budget_json(money))
    return data


def _spend(spend: Spend) -> dict[str, int]:
    return {"charged": spend.charged, "in_flight": spend.in_flight, "possibly_billed": spend.possibly_billed}


def budget_json(status: BudgetStatus, committed: Spend | None = None) -> dict[str, Any]:
    """Both limits: `plan --json` (at its top level), the build summary and the ledger (under "budget").

    spent: what this spec's earlier builds committed (charged, in flight, possibly billed); this_build: what
    the next build adds; held: creates that may already be billed, sent again only with --resubmit-ambiguous.
    ``committed`` (after a build): what it did commit; budget_left is then what is really left."""
    limits = status.limits
    data: dict[str, Any] = {
        "budget": limits.budget,
        "max_credits": limits.max_credits,
        "spent_credits": status.spent.total,
        "spent": _spend(status.spent),
        "this_build_credits": status.this_build,
        "held_credits": status.held,
        "budget_left": status.budget_left,
        "within_budget": status.within_budget,
        "within_max_credits": status.within_max_credits,
    }
    if committed is not None:
        data["committed_credits"] = committed.total
        data["committed"] = _spend(committed)
        if limits.budget is not None:
            data["budget_left"] = limits.budget - status.spent.total - committed.total
    return data


def budget_lines(money: dict[str, Any], *, after: bool = False) -> list[str]:
    """Both limits in words, from budget_json: before a build (plan), or ``after`` one (its summary)."""
    done = "committed" if after else "would spend"
    this = money["committed_credits"] if after else money["this_build_credits"]
    lines = []
    spent = money["spent_credits"]
    parts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in money["spent"].items() if v)
    so_far = f"spent so far {spent} credits" + (f" ({parts})" if parts else "")
    if money["budget"] is not None:
        ok = money["within_budget"] if not after else money["budget_left"] >= 0
        status = "within budget" if ok else "[red]OVER BUDGET[/]"
        lines.append(
            f"budget: {money['budget']:g} credits across builds: {so_far}, this build {this}, "
            f"{money['budget_left']:g} left: {status}"
        )
    elif spent:
        lines.append(f"budget: none set; {so_far} by this spec's builds, this build {this}")
    if money["max_credits"] is not None:
        ok = money["within_max_credits"] if not after else this <= money["max_credits"]
        status = "within the cap" if ok else "[red]OVER BUDGET[/] (this run's cap)"
        lines.append(f"run cap: --max-credits {money['max_credits']:g}; this build {done} {this}: {status}")
    if money["held_credits"] and not after:
        lines.append(
            f"held: {money['held_credits']} credits of creates that may already be billed; "
            "they are sent again only with --resubmit-ambiguous"
        )
    return lines


def render_plan(data: dict[str, Any], console: Console) -> None:
    table = Table(title=f"plan: {data['spec']}", show_lines=False, expand=False)
    table.add_column("scene", style="bold")
    table.add_column("asset")
    table.add_column("model")
    table.add_column("credits", justify="right")
    table.add_column("cached")
    table.add_column("action / why")
    for scene in data["scenes"]:
        first = True
        for a in scene["assets"]:
            style = ACTION_STYLE.get(a["action"], "")
            why = a["reason"] if a["action"] == "cached" else f"{a['action']}: {a['reason']}"
            if a.get("tier") == "team":  # downloaded and verified: nothing to pay
                why += ", 0 credits"
            if a["action"] == "refetch":  # free: the recorded task's output again (preview: rendered again)
                why = f"refetch (0 credits): {a['reason']}"
            table.add_row(
                scene["id"] if first else "",
                a["label"],
                a["model"],
                str(a["credits"]),
                "yes" if a["cached"] else "no",
                f"[{style}]{why}[/]" if style else why,
            )
            first = False
        table.add_row("", "[dim]scene total[/]", "", f"[dim]{scene['credits']}[/]", "", "", end_section=True)
    console.print(table)
    for scene in data["scenes"]:
        note = takes_note(scene, data["spec"])
        if note is not None:
            console.print(note)
    if len(data.get("outputs") or ()) > 1:
        cuts = [
            f"{o['path']} ({o['ratio']}{', fit ' + o['fit'] if o['fit'] else ''})" for o in data["outputs"]
        ]
        console.print("outputs, all cut from these assets: " + ", ".join(cuts))
    if "summary" in data:
        console.print(data["summary"], markup=False)
    console.print(f"total: {data['total_credits']} credits (${data['usd']:.2f}) for a build from nothing")
    spend = f"{data['to_spend_credits']} credits (${data['to_spend_usd']:.2f})"
    if data.get("backend", "runway") == "runway":
        console.print(f"to spend: {spend} on the next build")
    elif data.get("cache_namespace") == "runway":  # priced as a paid build, but the next one is the preview
        console.print(f"to spend: {spend} with --backend runway; the next build is a free preview")
    else:
        todo = sum(1 for s in data["scenes"] for a in s["assets"] if a["action"] in ("create", "regenerate"))
        console.print(
            f"to spend: nothing: the preview backend is free ({todo} asset{'' if todo == 1 else 's'} to render)"
        )
    refetch = sum(1 for s in data["scenes"] for a in s["assets"] if a["action"] == "refetch")
    if refetch:
        console.print(
            f"to fetch again: {refetch} damaged or missing cached file{'' if refetch == 1 else 's'}, "
            "from the tasks that made them (0 credits)"
        )
    if "backend" in data:
        console.print(f"backend: {data['backend']} ({data['backend_reason']})")
    if data.get("team_cache"):
        t = data["team_cache"]
        state = (
            "unreachable: local cache only" if t["down"] else f"{t['downloaded']} downloaded (sha256 checked)"
        )
        console.print(f"team cache: {t['url']}, {state}")
    if "spent_credits" in data:
        for line in budget_lines(data):
            console.print(line)
    elif data["budget"] is not None:
        left = data["budget_left"]
        status = "within budget" if data["within_budget"] else "[red]OVER BUDGET[/]"
        console.print(f"budget: {data['budget']:g} credits, {left:g} left: {status}")
