"""Two builders, one payment: before a create, claim the asset's lease on the team cache; a builder that finds
it held waits for the holder's result and downloads it; the holder renews its lease while the task runs and
uploads the output (object, then record) once it is verified, then releases the lease."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Literal

from vidspec.store.lease import LeaseInfo
from vidspec.store.tiered import TeamTier

Claimed = Literal["fetched", "claimed"]


async def claim_or_wait(
    team: TeamTier, key: str, asset: str, on_wait: Callable[[LeaseInfo], None]
) -> Claimed:
    """ "fetched": the output is now in the local cache (another builder made it); "claimed": this build
    makes it (it holds the lease, or the team cache is down)."""
    poll = min(2.0, max(0.05, team.leases.ttl / 10))
    announced = False
    while True:
        if await asyncio.to_thread(team.fetch, key) == "ok":
            return "fetched"
        holder = await asyncio.to_thread(team.claim, key, asset)
        if holder is None:
            # The holder may have uploaded and released between our look and our claim.
            if await asyncio.to_thread(team.fetch, key) == "ok":
                await asyncio.to_thread(team.release, key)
                return "fetched"
            return "claimed"
        if not announced:
            on_wait(holder)
            announced = True
        await asyncio.sleep(poll)


@contextlib.asynccontextmanager
async def renewing(team: TeamTier, key: str, asset: str) -> AsyncIterator[None]:
    """Renew the lease every third of its time to live while the body runs; release it after."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(team.leases.ttl / 3)
            await asyncio.to_thread(team.renew, key, asset)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.shield(asyncio.to_thread(team.release, key))
