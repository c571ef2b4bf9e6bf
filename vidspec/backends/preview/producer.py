"""The free local backend: for every asset Runway would make, a stand-in of the same length and ratio.

Offline, no key, no credits. Its outputs live in their own cache namespace, so a preview asset never
satisfies a Runway build. Randomness is seeded from the asset key, never the global generator.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Mapping
from pathlib import Path

from vidspec.backends.executor import Emit, Produced
from vidspec.backends.preview import standins
from vidspec.core.catalog import ratio_size
from vidspec.core.graph import Asset, AssetRef, Still
from vidspec.store.cache import LocalStore, Record

DUB_VOICES = {
    "fr": "fr",
    "de": "de",
    "es": "es",
    "it": "it",
    "pt": "pt",
    "ja": "ja",
    "zh": "cmn",
    "hi": "hi",
    "ru": "ru",
    "ko": "ko",
    "nl": "nl",
    "pl": "pl",
    "sv": "sv",
    "tr": "tr",
    "ar": "ar",
    "id": "id",
}


def key_seed(key: str) -> int:
    return int(key.split(":", 1)[1][:12], 16)


class PreviewProducer:
    backend = "preview"

    def __init__(
        self, store: LocalStore, *, out_ratio: str, fps: int, narration_texts: Mapping[str, str]
    ) -> None:
        self.store = store
        self.out_ratio = out_ratio
        self.fps = fps
        self.narration_texts = narration_texts  # dub asset name -> the narration's text
        self.notices: list[str] = []

    def limit_for(self, asset: Asset) -> int:
        return os.cpu_count() or 2

    def _tmp(self, key: str, ext: str) -> Path:
        return self.store.tmp_dir() / f"{key.split(':')[1][:16]}.{uuid.uuid4().hex[:8]}{ext}"

    async def produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        async with slot:
            emit(
                {
                    "event": "asset",
                    "asset": asset.name,
                    "scene": asset.scene_id,
                    "state": "rendering",
                    "credits": 0,
                }
            )
            return await asyncio.to_thread(self._render, asset, key, deps)

    async def refetch(
        self,
        asset: Asset,
        key: str,
        record: Record,
        deps: Mapping[str, Path],
        emit: Emit,
        slot: asyncio.Semaphore,
    ) -> Produced:
        """A damaged or missing stand-in is simply rendered again: it is free."""
        return await self.produce(asset, key, deps, emit, slot)

    def _render(self, asset: Asset, key: str, deps: Mapping[str, Path]) -> Produced:
        seed = key_seed(key)
        note = None
        if asset.kind == "image":
            w, h = ratio_size(asset.ratio or self.out_ratio)
            refs = [r.ref.path for r in asset.references if r.ref.path is not None]
            out = self._tmp(key, ".png")
            standins.render_image(out, width=w, height=h, prompt=asset.prompt or "", seed=seed, refs=refs)
        elif asset.kind == "video":
            w, h = ratio_size(asset.ratio or self.out_ratio)
            out = self._tmp(key, ".mp4")
            standins.render_video(
                out,
                width=w,
                height=h,
                fps=self.fps,
                duration=float(asset.seconds or 5),
                title=asset.scene_id,
                prompt=asset.prompt or "",
                footer=[
                    f"{asset.row.model} {asset.row.endpoint.replace('_', '-')}",
                    f"{asset.seconds:g} s",
                    f"{asset.credits} credits on Runway",
                ],
                seed=seed,
                image=_still(asset, deps),
                audio=bool(asset.audio),
            )
        elif asset.kind == "narration":
            out = self._tmp(key, ".wav")
            _, note = standins.render_speech(out, asset.prompt or "", voice="en-us")
        elif asset.kind == "dub":
            out = self._tmp(key, ".wav")
            text = self.narration_texts.get(asset.name, "")
            _, note = standins.render_speech(out, text, voice=DUB_VOICES.get(asset.language or "", "en-us"))
        else:
            out = self._tmp(key, ".wav")
            seconds = asset.duration if asset.duration is not None else 3.0
            standins.render_noise(out, float(seconds), seed=seed)
        if note and note not in self.notices:
            self.notices.append(note)
        return Produced(out, None, 0, note)


def _still(asset: Asset, deps: Mapping[str, Path]) -> Path | None:
    """The picture a stand-in video shows: its image input (a made one or a local file), or a character image."""
    if isinstance(asset.image, AssetRef):
        return deps.get(asset.image.name)
    if isinstance(asset.image, Still):  # the frame the executor extracted from another scene's clip
        return deps.get(asset.image.label)
    if asset.image is not None:
        return asset.image.path  # None for a URL: nothing to show offline
    if asset.character is not None and asset.character.media == "image":
        return asset.character.path
    return None
