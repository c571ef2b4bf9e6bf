"""Frames of clips that an asset takes as its reference image (continuity): extracted once, then cached in
the store under a key made of the clip's key and the frame (so a new clip means a new frame)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

from vidspec.core.graph import Asset, FileRef, Still
from vidspec.core.hashing import file_sha256, key_hex
from vidspec.core.keys import frame_key
from vidspec.errors import AssetFailed
from vidspec.media.frames import extract_frame
from vidspec.store.cache import LocalStore, Record, now


def still_file(store: LocalStore, still: Still, clip: Path, clip_key: str) -> Path:
    key = frame_key(clip_key, still.at)
    hit = store.get(key)
    if hit is not None:
        return hit[1]
    tmp = store.tmp_dir() / f"frame-{uuid.uuid4().hex}.png"
    try:
        extract_frame(clip, still.at, tmp)
        record = Record(
            key=key,
            name=still.label,
            kind="frame",
            model="ffmpeg",
            endpoint="frame",
            file=key_hex(key) + ".png",
            output_sha256=file_sha256(tmp),
            size=tmp.stat().st_size,
            duration=None,
            task_id=None,
            credits_estimated=0,
            credits_charged=0,
            created_at=now(),
            backend="local",
        )
        return store.put(key, tmp, record)
    finally:
        tmp.unlink(missing_ok=True)


def stills_for(
    store: LocalStore, asset: Asset, dep_paths: Mapping[str, Path], dep_keys: Mapping[str, str]
) -> dict[str, Path]:
    """Each frame the asset takes from a clip, by its label: the clip made by the build (in ``dep_paths``,
    with its key in ``dep_keys``) or a file."""
    found: dict[str, Path] = {}
    for _, ref in asset.inputs():
        if not isinstance(ref, Still) or ref.label in found:
            continue
        if isinstance(ref.clip, FileRef):
            if ref.clip.path is None:
                raise AssetFailed(f"a frame of {ref.clip.url} cannot be taken offline; use a local file")
            clip, clip_key = ref.clip.path, "sha256:" + file_sha256(ref.clip.path)
        else:
            clip, clip_key = dep_paths[ref.clip.name], dep_keys[ref.clip.name]
        found[ref.label] = still_file(store, ref, clip, clip_key)
    return found
