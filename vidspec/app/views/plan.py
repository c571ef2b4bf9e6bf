"""The plan as JSON (the contract) and as a rich table rendered from that JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

ACTION_STYLE = {"cached": "green", "create": "yellow", "regenerate": "magenta", "reuse": "cyan"}


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
