"""Cache keys: sha256 over a canonical form of everything that affects an asset's output.

Never over a scene's id or position: renaming or reordering scenes costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vidspec.core.catalog import API_VERSION
from vidspec.core.graph import Asset, AssetRef, Graph, Input, Still
from vidspec.core.hashing import canonical_json, file_sha256, sha256_hex
from vidspec.core.requests import request_body

KEY_VERSION = "vidspec-key-1"  # bump to disown every old cache entry at once

Digest = Callable[[Path], str]


class FileDigests:
    """sha256 of input files, memoised by (path, size, mtime) so one run reads each file once."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: Path) -> str:
        st = os.stat(path)
        memo_key = (str(path), st.st_size, st.st_mtime_ns)
        if memo_key not in self._memo:
            self._memo[memo_key] = "sha256:" + file_sha256(path)
        return self._memo[memo_key]


def canonical_body(asset: Asset, digest: Digest, dep_keys: Mapping[str, str]) -> dict[str, Any]:
    """The request body with each input replaced by what identifies its content."""

    def content(ref: Input) -> Any:
        if isinstance(ref, AssetRef):
            return {"asset": dep_keys[ref.name]}
        if isinstance(ref, Still):  # a frame of a clip: the clip's identity and which frame
            return {"frame": ref.at, "of": content(ref.clip)}
        if ref.path is None:
            return ref.url  # a URL is its own identity
        return {"file": digest(ref.path), "kind": ref.media}

    return request_body(asset, content)


def key_parts(asset: Asset, digest: Digest, dep_keys: Mapping[str, str]) -> dict[str, str]:
    """A short hash per request field: the lockfile keeps them so a plan can say what changed."""
    body = canonical_body(asset, digest, dep_keys)
    return {name: sha256_hex(canonical_json(v))[:16] for name, v in sorted(body.items())}


def asset_key(asset: Asset, digest: Digest, dep_keys: Mapping[str, str], namespace: str = "runway") -> str:
    payload = {
        "v": KEY_VERSION,
        "api": API_VERSION,
        "backend": namespace,
        "endpoint": asset.row.endpoint,
        "body": canonical_body(asset, digest, dep_keys),
    }
    return "sha256:" + sha256_hex(canonical_json(payload))


def frame_key(clip_key: str, at: str | float) -> str:
    """The cache key of a frame taken from a clip: the clip's key and which frame (continuity)."""
    payload = {"v": KEY_VERSION, "frame": at, "of": clip_key}
    return "sha256:" + sha256_hex(canonical_json(payload))


def graph_keys(graph: Graph, digest: Digest, namespace: str = "runway") -> dict[str, str]:
    """Asset name -> key, in dependency order."""
    keys: dict[str, str] = {}
    for asset in graph.assets:
        keys[asset.name] = asset_key(asset, digest, keys, namespace)
    return keys
