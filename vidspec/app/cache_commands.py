"""`vidspec cache ls|verify|gc`: look after the local cache or the team cache (with --cache-url)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from vidspec.store.cache import CACHE_DIR_ENV
from vidspec.store.remote import CACHE_URL_ENV

F = TypeVar("F", bound=Callable[..., Any])


def _tier_options(f: F) -> F:
    f = click.option(
        "--cache-url",
        envvar=CACHE_URL_ENV,
        metavar="URL",
        help="The team cache (s3://bucket/prefix or file:///dir; env VIDSPEC_CACHE_URL). Given: this command "
        "works on the team cache; otherwise on the local one.",
    )(f)
    f = click.option(
        "--local",
        "force_local",
        is_flag=True,
        help="Work on the local cache even when a team cache URL is set.",
    )(f)
    f = click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        envvar=CACHE_DIR_ENV,
        help="The local cache directory (default ./.vidspec; env VIDSPEC_CACHE_DIR).",
    )(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)
    return f


def _tier(cache_dir: Path | None, cache_url: str | None, force_local: bool) -> Any:
    from vidspec.store.housekeeping import LocalTier, TeamTierView
    from vidspec.store.remote import parse_cache_url

    if cache_url and not force_local:
        blobs = parse_cache_url(cache_url)
        blobs.check()  # 403 or down: one clear line, exit 1
        return TeamTierView(blobs)
    return LocalTier(cache_dir or Path(".vidspec"))


def _where(tier: Any) -> str:
    return str(getattr(tier, "url", None) or tier.root)


def _row(entry: Any) -> dict[str, Any]:
    rec = entry.record
    return {
        "tier": entry.tier, "namespace": entry.namespace, "key": entry.key, "asset": rec.name,
        "kind": rec.kind, "model": rec.model, "size": entry.size, "created_at": rec.created_at,
        "output_sha256": rec.output_sha256,
    }  # fmt: skip


def _age(seconds: float) -> str:
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span:
            return f"{seconds / span:.0f}{unit}"
    return f"{seconds:.0f}s"


@click.group("cache")
def cache() -> None:
    """Look after a cache: the local one, or the team one with --cache-url."""


@cache.command("ls")
@_tier_options
def ls(cache_dir: Path | None, cache_url: str | None, force_local: bool, as_json: bool) -> None:
    """List the entries: asset, kind, model, size, age and key."""
    tier = _tier(cache_dir, cache_url, force_local)
    entries = sorted(tier.entries(), key=lambda e: (e.namespace, -e.created_at))
    if as_json:
        click.echo(json.dumps({"cache": _where(tier), "entries": [_row(e) for e in entries]}, indent=2))
        return
    now = time.time()
    for e in entries:
        rec = e.record
        click.echo(
            f"{e.namespace:8} {e.key[7:19]}  {rec.name:28} {rec.kind:9} {rec.model:24} "
            f"{e.size / 1e6:8.2f} MB  {_age(now - rec.created_at):>4} ago"
        )
    total = sum(e.size for e in entries)
    click.echo(f"{len(entries)} entries, {total / 1e6:.2f} MB in {_where(tier)}")


@cache.command("verify")
@_tier_options
def verify(cache_dir: Path | None, cache_url: str | None, force_local: bool, as_json: bool) -> int:
    """Re-hash every object against its record's sha256; drop the bad ones (local: moved to quarantine,
    where a build fetches them again from their tasks; team: deleted). Exit 1 when any was bad."""
    tier = _tier(cache_dir, cache_url, force_local)
    bad: list[dict[str, Any]] = []
    checked = 0
    for entry in tier.entries():
        checked += 1
        health = tier.health(entry)
        if health != "ok":
            tier.drop_damaged(entry)
            bad.append({**_row(entry), "state": health})
    if as_json:
        click.echo(json.dumps({"cache": _where(tier), "checked": checked, "bad": bad}, indent=2))
    else:
        for b in bad:
            what = "damaged (sha256 mismatch)" if b["state"] == "damaged" else "object missing"
            click.echo(f"{b['namespace']} {b['key'][7:19]} {b['asset']}: {what}; dropped")
        click.echo(f"verified {checked} objects in {_where(tier)}: {checked - len(bad)} ok, {len(bad)} bad")
    return 1 if bad else 0


@cache.command("gc")
@click.option(
    "--older-than",
    required=True,
    metavar="AGE",
    help="Remove entries made longer ago than AGE (30d, 12h, 2w) that no lockfile names.",
)
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Where the lockfiles are (default: the git work tree of the current directory).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@_tier_options
def gc(
    older_than: str,
    repo: Path | None,
    dry_run: bool,
    cache_dir: Path | None,
    cache_url: str | None,
    force_local: bool,
    as_json: bool,
) -> None:
    """Remove old entries, keeping every one a lockfile in the repository names and every one a running build
    holds a lease on (the local cache: refused while a build runs on it)."""
    from vidspec.store.cache import Cache
    from vidspec.store.housekeeping import LocalTier, collect, lockfile_keys, parse_age, repository_root

    try:
        age = parse_age(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    root = repo or repository_root(Path(os.getcwd()))
    keep = lockfile_keys(root)
    tier = _tier(cache_dir, cache_url, force_local)
    if isinstance(tier, LocalTier) and tier.root.is_dir():
        with Cache(tier.root).exclusive():  # a build running on this cache: its files are not ours to touch
            result = collect(tier, age, keep, dry_run=dry_run)
    else:
        result = collect(tier, age, keep, dry_run=dry_run)
    freed = sum(e.size for e in result.removed)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "cache": _where(tier),
                    "dry_run": dry_run,
                    "removed": [_row(e) for e in result.removed],
                    "freed_bytes": freed,
                    "kept_locked": result.kept_locked,
                    "kept_leased": result.kept_leased,
                    "kept_young": result.kept_young,
                    "lockfiles_under": str(root),
                },  # fmt: skip
                indent=2,
            )
        )
        return
    verb = "would remove" if dry_run else "removed"
    for e in result.removed:
        click.echo(f"{verb} {e.namespace} {e.key[7:19]} {e.record.name} ({e.size / 1e6:.2f} MB)")
    click.echo(
        f"{verb} {len(result.removed)} entries ({freed / 1e6:.2f} MB) from {_where(tier)}; kept "
        f"{result.kept_locked} named by lockfiles under {root}, {result.kept_leased} leased by a running "
        f"build, {result.kept_young} younger than {older_than}"
    )
