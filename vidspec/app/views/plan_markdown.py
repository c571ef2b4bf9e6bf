"""`plan --format markdown`: a pull-request comment, summary first, a table, the details folded.

Rendered from the plan's JSON (and its "diff" with --diff), and stable from run to run: no time, no temporary
path, rows in the spec's order, so a bot can update one comment in place (it finds it by the first line).
"""

from __future__ import annotations

import html
from typing import Any

from vidspec.app.views.plan_diff import CHANGE_WORDS, against, credits_cell, totals_line

MARKER = "<!-- vidspec-plan: {spec} -->"


def cell(text: object) -> str:
    """Text for a table cell or a list item: HTML and Markdown characters escaped, on one line."""
    out = html.escape(str(text), quote=False).replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]|#~":
        out = out.replace(ch, "\\" + ch)
    return out


def code(text: str) -> str:
    """An inline code span that survives backticks in the text."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _folded(summary: str, body: list[str]) -> list[str]:
    while body and not body[-1]:
        body = body[:-1]
    return ["<details>", f"<summary>{cell(summary)}</summary>", "", *body, "", "</details>", ""]


def _head(spec: str, title: str, summary: str) -> list[str]:
    """The marker a bot finds the comment by, the title, and the summary line in bold."""
    return [
        MARKER.format(spec=cell(spec)),
        f"### vidspec plan: {code(spec)}{title}",
        "",
        f"**{cell(summary)}**",
        "",
    ]


def _budget(data: dict[str, Any]) -> list[str]:
    """The spec's budget against a build from nothing (the money spent so far is local: not in a comment)."""
    if data.get("budget") is None:
        return []
    ok = "within budget" if data["total_credits"] <= data["budget"] else "**over budget**"
    return [f"Budget: {data['budget']:g} credits; a build from nothing is {data['total_credits']}: {ok}.", ""]


def plan_markdown(data: dict[str, Any]) -> str:
    """A plan without --diff: what the next build makes and spends, cached assets folded."""
    lines = _head(data["spec"], "", data["summary"])
    lines.append(f"Total for a build from nothing: {data['total_credits']} credits (${data['usd']:.2f}).")
    if "backend" in data:
        lines.append(f"Next build: {cell(data['backend'])} ({cell(data['backend_reason'])}).")
    lines += ["", *_budget(data)]
    todo, kept = [], []
    for s in data["scenes"]:
        for a in s["assets"]:
            row = [cell(s["id"]), cell(a["label"]), cell(a["model"]), str(a["credits"])]
            if a["action"] == "cached":
                kept.append(row)
            else:
                todo.append([*row, cell(a["action"]), cell(a["reason"])])
    if todo:
        header = ["scene", "asset", "model", "credits", "action", "why"]
        lines += [*_table(header, ["---", "---", "---", "--:", "---", "---"], todo), ""]
    else:
        lines += ["Everything is cached: nothing to make.", ""]
    if kept:
        body = _table(["scene", "asset", "model", "credits"], ["---", "---", "---", "--:"], kept)
        lines += _folded(f"Cached ({len(kept)} assets)", body)
    if data.get("removed"):
        body = [f"- {cell(name)}" for name in data["removed"]]
        lines += _folded(f"In the lockfile, no longer in the spec ({len(data['removed'])})", body)
    return "\n".join(lines).rstrip() + "\n"


def _change_lines(a: dict[str, Any]) -> list[str]:
    lines = [f"**{cell(a['name'])}**" + (" (new)" if a["status"] == "added" else ""), ""]
    lines += [f"- {cell(r['label'])}: {cell(r['excerpt'])}" for r in a["request"]]
    for c in a["changes"]:
        if c["change"] == "regenerated":
            lines.append(f"- {cell(c['label'])}: {cell(c['new_excerpt'])} is made again")
            continue
        lines.append(f"- {cell(c['label'])} {CHANGE_WORDS[c['change']]}")
        lines.append(f"  - before: {cell(c['old_excerpt'])}")
        lines.append(f"  - after: {cell(c['new_excerpt'])}")
    return [*lines, ""]


def diff_markdown(data: dict[str, Any]) -> str:
    """`plan --diff REF --format markdown`: the cost of the change, then what changes, the rest folded."""
    diff = data["diff"]
    lines = [
        *_head(data["spec"], f" against {cell(against(diff))}", diff["summary"]),
        cell(totals_line(diff)) + ".",
        "",
        *_budget(data),
    ]
    changed, kept, details = [], [], []
    moved = sorted(s["id"] for s in diff["scenes"] if s["moved"])
    for s in diff["scenes"]:
        for a in s["assets"]:
            model = a["model_after"] or a["model_before"]
            if a["model_before"] and a["model_after"] and a["model_before"] != a["model_after"]:
                model = f"{a['model_before']} → {a['model_after']}"
            if a["status"] == "unchanged":
                kept.append([cell(s["id"]), cell(a["label"]), cell(model), str(a["credits_after"])])
                continue
            changed.append([
                cell(s["id"]), cell(a["label"]), cell(model), a["status"], credits_cell(a),
                str(a["spend_credits"]), cell(a["reason"]),
            ])  # fmt: skip
            if a["changes"] or a["request"]:
                details += _change_lines(a)
    if changed:
        header = ["scene", "asset", "model", "change", "credits", "to spend", "why"]
        lines += [*_table(header, ["---", "---", "---", "---", "--:", "--:", "---"], changed), ""]
    else:
        lines += ["No asset changes.", ""]
    if moved:
        lines += [f"Scenes in a new order (free): {', '.join(cell(m) for m in moved)}.", ""]
    if details:
        lines += _folded("What changes, field by field", details)
    if kept:
        body = _table(["scene", "asset", "model", "credits"], ["---", "---", "---", "--:"], kept)
        lines += _folded(f"Unchanged ({len(kept)} assets)", body)
    return "\n".join(lines).rstrip() + "\n"
