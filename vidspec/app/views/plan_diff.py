"""`plan --diff REF`: the diff as JSON (the contract, under "diff" in `plan --json`) and as a table, in words."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vidspec.app.plan_diff import RefDiff
from vidspec.app.views.plan import FIELD_WORDS, KIND_LABELS
from vidspec.app.views.plan_summary import credits_words, dollars, signed_credits, summary_line
from vidspec.core.plan_diff import AssetDiff, FieldDiff, Value
from vidspec.core.pricing import usd

FIELD_LABELS = {**FIELD_WORDS, "model": "model", "endpoint": "inputs"}
CHANGE_WORDS = {
    "changed": "changed", "bytes_changed": "bytes changed", "added": "added", "removed": "removed",
    "regenerated": "regenerated",
}  # fmt: skip
STATUS_STYLE = {"added": "yellow", "removed": "red", "regenerated": "magenta", "unchanged": "green"}
EXCERPT_CHARS = 80  # a longer value is shown around its change
CONTEXT_CHARS = 24  # unchanged text kept on each side of the change


def shown(value: Value) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def excerpts(old: str, new: str, width: int = EXCERPT_CHARS, context: int = CONTEXT_CHARS) -> tuple[str, str]:
    """Both texts shortened around where they differ, with `…` where text was cut: a long prompt that changed
    one word reads as the words around it."""
    if len(old) <= width and len(new) <= width:
        return old, new
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0  # common suffix, not reaching into the common prefix
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    lo = max(0, start - context)
    while lo > 0 and old[lo - 1] != " " and start - lo < context + 12:  # begin at a word
        lo -= 1

    def cut(text: str) -> str:
        middle_end = len(text) - end
        hi = min(len(text), middle_end + context)
        while hi < len(text) and text[hi] != " " and hi - middle_end < context + 12:
            hi += 1
        body = text[lo:hi]
        if len(body) > width + 2 * context:  # a long change: its start and end
            body = body[: width // 2 + context] + " … " + body[-(width // 2) :]
        return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")

    return cut(old), cut(new)


def clipped(text: str, width: int = 3 * EXCERPT_CHARS) -> str:
    return text if len(text) <= width else text[:width].rstrip() + "…"


def change_pair(change: FieldDiff) -> tuple[str, str]:
    old, new = shown(change.old), shown(change.new)
    return excerpts(old, new)


def asset_reason(a: AssetDiff, label_of: dict[str, str]) -> str:
    if a.status == "unchanged":
        return "unchanged"
    if a.status == "removed":
        return "no longer in the spec"
    if a.status == "added":
        if a.same_as is not None:
            return f"same request as '{a.same_as}': nothing to spend"
        return "new asset"
    words: list[str] = []
    for c in a.changes:
        if c.change == "regenerated":
            # "<asset> (generated)", or a frame of it: "the last frame of <asset> (generated)"
            made = str(c.new)
            named = (n for n in label_of if made == f"{n} (generated)" or made.endswith(f" {n} (generated)"))
            dep = next(named, made.removesuffix(" (generated)"))
            words.append(f"depends on regenerated {label_of.get(dep, dep)}")
        else:
            words.append(f"{FIELD_LABELS.get(c.field, c.field)} {CHANGE_WORDS[c.change]}")
    reason = ", ".join(words) or "request changed"
    return reason + (f"; same request as '{a.same_as}': nothing to spend" if a.same_as else "")


def diff_json(result: RefDiff) -> dict[str, Any]:
    """The "diff" object of `plan --diff REF --json`."""
    diff = result.diff
    label_of = {a.name: f"{KIND_LABELS[a.kind]} '{a.scene_id}'" for a in diff.assets}
    counts = diff.counts()
    count_words = {"create": counts.create, "regenerate": counts.regenerate, "unchanged": counts.cached}
    count_words["removed"] = counts.removed
    scenes = []
    for s in diff.scenes:
        assets = []
        for a in s.assets:
            changes = []
            for c in a.changes:
                old_short, new_short = change_pair(c)
                changes.append({
                    "field": c.field, "label": FIELD_LABELS.get(c.field, c.field), "change": c.change,
                    "old": c.old, "new": c.new, "old_excerpt": old_short, "new_excerpt": new_short,
                })  # fmt: skip
            assets.append({
                "name": a.name, "kind": a.kind, "label": KIND_LABELS[a.kind], "status": a.status,
                "model_before": a.model_before, "model_after": a.model_after,
                "credits_before": a.credits_before, "credits_after": a.credits_after, "spend_credits": a.spend,
                "key_before": a.key_before, "key_after": a.key_after, "same_as": a.same_as,
                "reason": asset_reason(a, label_of), "changes": changes,
                "request": [
                    {"field": f, "label": FIELD_LABELS.get(f, f), "value": v, "excerpt": clipped(shown(v))}
                    for f, v in a.request
                ],
            })  # fmt: skip
        scenes.append({
            "id": s.id, "status": s.status, "position_before": s.position_before,
            "position_after": s.position_after, "moved": s.moved, "spend_credits": s.spend, "assets": assets,
        })  # fmt: skip
    return {
        "ref": result.ref,
        "commit": result.commit,
        "path": result.path,
        "base_found": diff.base_found,
        "summary": summary_line(
            {
                "create": counts.create,
                "regenerate": counts.regenerate,
                "cached": counts.cached,
                "removed": counts.removed,
            },
            diff.spend,
            kept="unchanged",
        ),  # fmt: skip
        "counts": count_words,
        "total_before": diff.total_before,
        "total_after": diff.total_after,
        "usd_before": usd(diff.total_before),
        "usd_after": usd(diff.total_after),
        "delta_credits": diff.delta,
        "delta_usd": round(usd(abs(diff.delta)) * (1 if diff.delta >= 0 else -1), 2),
        "to_spend_credits": diff.spend,
        "to_spend_usd": usd(diff.spend),
        "scenes": scenes,
    }


def against(data: dict[str, Any]) -> str:
    """`main (0123456789ab)`, or that the spec did not exist there."""
    where = f"{data['ref']} ({data['commit'][:12]})"
    return where if data["base_found"] else f"{where}, where {data['path']} did not exist"


def totals_line(data: dict[str, Any]) -> str:
    before, after, delta = data["total_before"], data["total_after"], data["delta_credits"]
    return (
        f"Total for a build from nothing: {before} → {credits_words(after)} "
        f"({dollars(before)} → {dollars(after)}), {signed_credits(delta)} ({dollars(delta, sign=True)})"
    )


def credits_cell(a: dict[str, Any]) -> str:
    before, after = a["credits_before"], a["credits_after"]
    if a["status"] == "removed":
        return f"-{before}"
    if a["status"] == "regenerated" and before != after:
        return f"{before} → {after}"
    return str(after)


def render_diff(data: dict[str, Any], spec: str, console: Console) -> None:
    diff = data["diff"]
    table = Table(title=f"plan --diff: {spec} against {against(diff)}", expand=False)
    for name, justify in (("scene", "left"), ("asset", "left"), ("model", "left"), ("change", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("credits", justify="right")
    table.add_column("to spend", justify="right")
    table.add_column("why")
    for s in diff["scenes"]:
        first = True
        for a in s["assets"]:
            style = STATUS_STYLE[a["status"]]
            why = a["reason"] + (" (scene moved: free)" if s["moved"] and a["status"] == "unchanged" else "")
            table.add_row(
                s["id"] if first else "",
                a["label"],
                a["model_after"] or a["model_before"],
                f"[{style}]{a['status']}[/]",
                credits_cell(a),
                str(a["spend_credits"]),
                escape(why),
            )
            first = False
        table.add_section()
    console.print(table)
    for s in diff["scenes"]:
        for a in s["assets"]:
            for c in a["changes"]:
                console.print(f"{a['name']}: {c['label']} {CHANGE_WORDS[c['change']]}", markup=False)
                if c["change"] == "regenerated":
                    console.print(f"  {c['new_excerpt']} is made again", markup=False)
                    continue
                console.print(f"  - {c['old_excerpt']}", markup=False)
                console.print(f"  + {c['new_excerpt']}", markup=False)
    console.print(diff["summary"], markup=False)
    console.print(totals_line(diff), markup=False)
