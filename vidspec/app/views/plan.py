"""The plan as JSON (the contract) and as a rich table rendered from that JSON; the reasons in words."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from vidspec.core.plan import Plan, Reason
from vidspec.core.pricing import usd

ACTION_STYLE = {"cached": "green", "create": "yellow", "regenerate": "magenta", "reuse": "cyan"}
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


def reason_text(reason: Reason) -> str:
    if reason.code == "cached":
        return "cached"
    if reason.code == "new":
        return "new asset"
    if reason.code == "missing":
        return "in the lockfile but missing from the cache"
    if reason.code == "same_request":
        return f"same request as '{reason.same_as}'"
    if reason.code == "dep_regenerated" and reason.dependency is not None:
        dep = reason.dependency
        return f"depends on regenerated {KIND_LABELS[dep.kind]} '{dep.scene_id}'"
    words = [f"{FIELD_WORDS.get(c.field, c.field)} {CHANGE_WORDS[c.change]}" for c in reason.changes]
    return ", ".join(words) or "request changed"


def plan_json(plan: Plan) -> dict[str, Any]:
    """`plan --json`: the contract (format_version 1)."""
    scenes = []
    for rs in plan.graph.scenes:
        rows = [r for r in plan.rows if r.asset.scene_id == rs.id]
        scenes.append({
            "id": rs.id,
            "credits": sum(r.asset.credits for r in rows),
            "assets": [{
                "kind": r.asset.kind,
                "label": KIND_LABELS[r.asset.kind],
                "name": r.asset.name,
                "model": r.asset.row.model,
                "endpoint": r.asset.row.endpoint,
                "credits": r.asset.credits,
                "cached": r.cached,
                "action": r.action,
                "reason": reason_text(r.reason),
                "reason_code": r.reason.code,
                "key": r.key,
            } for r in rows],
        })  # fmt: skip
    return {
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
    }


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
            why = a["action"] if a["action"] == "cached" else f"{a['action']}: {a['reason']}"
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
    console.print(f"total: {data['total_credits']} credits (${data['usd']:.2f}) for a build from nothing")
    console.print(
        f"to spend: {data['to_spend_credits']} credits (${data['to_spend_usd']:.2f}) on the next build"
    )
    if data["budget"] is not None:
        left = data["budget_left"]
        status = "within budget" if data["within_budget"] else "[red]OVER BUDGET[/]"
        console.print(f"budget: {data['budget']:g} credits, {left:g} left: {status}")
