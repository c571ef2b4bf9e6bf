"""The producer of footage assets (a scene's own `clip`): cut locally, for either backend, never sent to
Runway and free. The executor hands it every footage asset, whatever the build's producer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from pathlib import Path

from vidspec.backends.executor import AssetFailed, Emit, Produced, Producer
from vidspec.core.graph import Asset
from vidspec.errors import StitchError
from vidspec.media.footage import cut_footage
from vidspec.store.cache import LocalStore, Record


class FootageProducer:
    backend = "footage"

    def __init__(self, store: LocalStore) -> None:
        self.store = store

    def limit_for(self, asset: Asset) -> int:
        return 2

    async def produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        assert asset.video is not None and asset.video.path is not None  # validation: a local file
        src = asset.video.path
        out = self.store.tmp_dir() / f"{key.split(':')[1][:16]}.{uuid.uuid4().hex[:8]}.mp4"
        async with slot:
            emit({"event": "asset", "asset": asset.name, "scene": asset.scene_id, "state": "cutting",
                  "credits": 0})  # fmt: skip
            try:
                await asyncio.to_thread(cut_footage, src, out, asset.trim)
            except StitchError as exc:
                out.unlink(missing_ok=True)
                raise AssetFailed(str(exc)) from None
        return Produced(out, None, 0, f"your footage {src.name}")

    async def refetch(
        self,
        asset: Asset,
        key: str,
        record: Record,
        deps: Mapping[str, Path],
        emit: Emit,
        slot: asyncio.Semaphore,
    ) -> Produced:
        """A damaged or missing cut is cut again from the footage: free."""
        return await self.produce(asset, key, deps, emit, slot)


class WithFootage:
    """A build's producer, with footage assets cut locally instead: what every build runs."""

    def __init__(self, inner: Producer, store: LocalStore) -> None:
        self.inner = inner
        self.footage = FootageProducer(store)
        self.backend = inner.backend

    def _for(self, asset: Asset) -> Producer:
        return self.footage if asset.is_footage else self.inner

    def limit_for(self, asset: Asset) -> int:
        return self._for(asset).limit_for(asset)

    async def produce(
        self, asset: Asset, key: str, deps: Mapping[str, Path], emit: Emit, slot: asyncio.Semaphore
    ) -> Produced:
        return await self._for(asset).produce(asset, key, deps, emit, slot)

    async def refetch(
        self,
        asset: Asset,
        key: str,
        record: Record,
        deps: Mapping[str, Path],
        emit: Emit,
        slot: asyncio.Semaphore,
    ) -> Produced:
        return await self._for(asset).refetch(asset, key, record, deps, emit, slot)
