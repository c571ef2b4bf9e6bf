"""Saved plans (`plan --out`): the document that records what a build will do, and how it differs from now.

The document names the spec (relative to the plan file's folder), the sha256 of the spec and of every input
file, and per asset its key, action, credits and the request it sends: the body as requests.py writes it, each
local input shown as its file and sha256 (the upload URI is made at send time), a dependency as its asset and
key. No secret is in it: the API key never enters a body. A checksum over the rest catches an edited file;
a build recomputes the whole document anyway and applies the plan only when the two agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from vidspec import __version__
from vidspec.core.graph import AssetRef, Graph, Input, Still
from vidspec.core.hashing import canonical_json, file_sha256, sha256_hex
from vidspec.core.keys import Digest
from vidspec.core.plan import Plan
from vidspec.core.pricing import usd
from vidspec.core.requests import request_body
from vidspec.core.select import closure
from vidspec.core.takes import SEED_MAX
from vidspec.errors import PlanFileError

PLAN_FORMAT = "vidspec-plan"
PLAN_VERSION = 1
MAX_PLAN_BYTES = 16 << 20  # far above any real plan; a bigger file is not read


def _rel(path: Path, base: Path) -> str:
    return PurePosixPath(Path(os.path.relpath(path, base))).as_posix()


def input_digests(graph: Graph, digest: Digest) -> dict[str, str]:
    """Every local file the spec reads (the assets' inputs and the music), relative to the spec's folder."""
    files = {p for a in graph.assets for p in a.files()}
    music = graph.project.music
    if music is not None:
        files.add((graph.base / music.path).resolve())
    return {_rel(p, graph.base): digest(p) for p in sorted(files)}


def plan_document(
    plan: Plan,
    graph: Graph,
    keys: Mapping[str, str],
    digest: Digest,
    *,
    spec_file: Path,
    spec_rel: str,
    backend: str,
    targets: Sequence[str] = (),
    seeds: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The saved plan of ``plan`` (the whole ``graph`` gives the inputs; ``seeds``: --replace's takes)."""
    base = graph.base

    def shown(ref: Input) -> Any:
        if isinstance(ref, AssetRef):
            return {"asset": ref.name, "key": keys[ref.name]}
        if isinstance(ref, Still):  # continuity: a frame of another clip
            return {"frame": ref.at, "of": shown(ref.clip)}
        if ref.path is None:
            return ref.url
        return {"file": _rel(ref.path, base), "sha256": digest(ref.path), "type": ref.media}

    assets = []
    for row in plan.rows:
        a = row.asset
        assets.append({
            "name": a.name, "scene": a.scene_id, "kind": a.kind, "model": a.row.model,
            "endpoint": a.row.endpoint, "key": row.key, "action": row.action, "reason_code": row.reason.code,
            "credits": a.credits if row.spends else 0, "price_credits": a.credits,
            "request": request_body(a, shown), "needs": sorted(closure(graph, a.deps)),
        })  # fmt: skip
    doc: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "format_version": PLAN_VERSION,
        "vidspec_version": __version__,
        "spec": spec_rel,
        "spec_sha256": "sha256:" + file_sha256(spec_file),
        "backend": backend,
        "targets": list(targets),
        "replace": dict(sorted((seeds or {}).items())),
        "inputs": input_digests(graph, digest),
        "assets": assets,
        "total_credits": plan.total_credits,
        "to_spend_credits": plan.to_spend_credits,
        "to_spend_usd": usd(plan.to_spend_credits),
    }
    doc["checksum"] = checksum(doc)
    return doc


def checksum(doc: Mapping[str, Any]) -> str:
    return "sha256:" + sha256_hex(canonical_json({k: v for k, v in doc.items() if k != "checksum"}))


# ------------------------------------------------------------------------------------------ reading one back


def _bad(what: str) -> PlanFileError:
    return PlanFileError(
        f"not a valid saved plan: {what}; make a new one with `vidspec plan SPEC --out FILE`"
    )


def _is_int(v: Any, lo: int = 0, hi: int | None = None) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)


def _str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())


ASSET_FIELDS: dict[str, type] = {
    "name": str, "scene": str, "kind": str, "model": str, "endpoint": str, "key": str, "action": str,
    "reason_code": str, "credits": int, "price_credits": int, "request": dict, "needs": list,
}  # fmt: skip


def check_document(doc: Any) -> dict[str, Any]:
    """The document, once its shape and checksum hold; PlanFileError says what is wrong otherwise."""
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise _bad(f'no "format": "{PLAN_FORMAT}" at its top level')
    if doc.get("format_version") != PLAN_VERSION:
        raise _bad(f"format_version {doc.get('format_version')!r}; this vidspec reads version {PLAN_VERSION}")
    for name, ok in (
        ("spec", isinstance(doc.get("spec"), str) and doc.get("spec")),
        ("spec_sha256", isinstance(doc.get("spec_sha256"), str)),
        ("backend", doc.get("backend") in ("runway", "preview")),
        ("targets", isinstance(doc.get("targets"), list) and all(isinstance(t, str) for t in doc["targets"])),
        ("replace", isinstance(doc.get("replace"), dict)
            and all(isinstance(k, str) and _is_int(v, 0, SEED_MAX) for k, v in doc["replace"].items())),
        ("inputs", _str_map(doc.get("inputs"))),
        ("assets", isinstance(doc.get("assets"), list)),
        ("total_credits", _is_int(doc.get("total_credits"))),
        ("to_spend_credits", _is_int(doc.get("to_spend_credits"))),
        ("checksum", isinstance(doc.get("checksum"), str)),
    ):  # fmt: skip
        if not ok:
            raise _bad(f'"{name}" is missing or has the wrong type')
    for i, a in enumerate(doc["assets"]):
        if not isinstance(a, dict):
            raise _bad(f"assets[{i}] is not an object")
        for name, kind in ASSET_FIELDS.items():
            value = a.get(name)
            if not isinstance(value, kind) or (kind is int and not _is_int(value)):
                raise _bad(f"assets[{i}].{name} is missing or has the wrong type")
    if doc["checksum"] != checksum(doc):
        raise PlanFileError(
            "the saved plan was changed after vidspec wrote it (its checksum does not match); a reviewed plan "
            "is applied only as written: make a new one with `vidspec plan SPEC --out FILE`"
        )
    if sum(a["credits"] for a in doc["assets"]) != doc["to_spend_credits"]:
        raise _bad("its assets' credits do not add up to to_spend_credits")
    return doc


def safe_spec_path(rel: str) -> PurePosixPath:
    """The spec's path as the plan names it: relative, below the plan's folder (no `..`, not absolute)."""
    p = PurePosixPath(rel)
    if "\\" in rel or "\x00" in rel or p.is_absolute() or ".." in p.parts or rel.startswith("~"):
        raise PlanFileError(
            f"the saved plan names the spec {rel!r}, which is not below the plan's folder; a plan may only "
            "name a spec in its own folder or under it"
        )
    return p


# ---------------------------------------------------------------------------------------- what has changed


_CACHE_WORDS = {"cached": "cached", "create": "to create", "regenerate": "to regenerate",
                "reuse": "a shared request", "refetch": "to fetch again (free)"}  # fmt: skip


def stale_reasons(saved: Mapping[str, Any], now: Mapping[str, Any], limit: int = 20) -> list[str]:
    """What differs between the saved plan and the same plan made now, in words (empty: it still holds)."""
    out: list[str] = []
    if saved["spec_sha256"] != now["spec_sha256"]:
        out.append(f"the spec {now['spec']} changed since the plan was made")
    for path in sorted(set(saved["inputs"]) | set(now["inputs"])):
        old, new = saved["inputs"].get(path), now["inputs"].get(path)
        if old is None:
            out.append(f"input {path}: new since the plan was made")
        elif new is None:
            out.append(f"input {path}: no longer read")
        elif old != new:
            out.append(f"input {path}: its bytes changed ({old[7:19]}… → {new[7:19]}…)")
    for field in ("backend", "targets", "replace"):
        if saved[field] != now[field]:
            out.append(f"{field}: {saved[field]!r} in the plan, {now[field]!r} now")
    before = {a["name"]: a for a in saved["assets"]}
    after = {a["name"]: a for a in now["assets"]}
    for name in list(dict.fromkeys([*before, *after])):
        a, b = before.get(name), after.get(name)
        if b is None:
            out.append(f"{name}: in the plan, no longer in the spec (or the targets)")
        elif a is None:
            out.append(f"{name}: not in the plan ({_CACHE_WORDS.get(b['action'], b['action'])} now)")
        elif a["key"] != b["key"] or a["request"] != b["request"]:
            out.append(f"{name}: its request changed since the plan was made")
        elif a["action"] != b["action"]:
            out.append(
                f"cache: {name} was {_CACHE_WORDS.get(a['action'], a['action'])} in the plan, "
                f"{_CACHE_WORDS.get(b['action'], b['action'])} now"
            )
        elif a["credits"] != b["credits"] or a["price_credits"] != b["price_credits"]:
            out.append(f"{name}: {a['credits']} credits in the plan, {b['credits']} now")
    if not out and saved["to_spend_credits"] != now["to_spend_credits"]:
        out.append(
            f"to spend: {saved['to_spend_credits']} credits in the plan, {now['to_spend_credits']} now"
        )
    if len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more"]
    return out
