#!/usr/bin/env python3
"""Build N assets against the fake Runway server (a separate process, real HTTP on loopback) with a fixed
latency per task and a concurrency limit C, and compare the wall time with the ideal ceil(N/C) * latency.
Targets: within 15 % of the ideal, and at most 4 polls per task on average with the default backoff scaled
down (--poll-scale, default 0.1: a 2 s first poll becomes 0.2 s, in proportion to a 1 s task).

    python bench/executor.py [--assets 40] [--concurrency 4] [--latency 1.0] [--poll-scale 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from vidspec.app.workspace import Workspace
from vidspec.backends.executor import Executor
from vidspec.backends.runway.client import RunwayClient
from vidspec.backends.runway.producer import Budget, RunwayOptions, RunwayProducer
from vidspec.testing.fake_runway import FakeRunwayProcess


def make_spec(path: Path, n: int) -> None:
    lines = ["version: 1", "name: bench", "scenes:"]
    for i in range(n):
        lines += [
            f"  - id: s{i:03d}",
            "    duration: 2",
            f'    prompt: "Shot {i}: rain on a tin roof, macro lens, slow rack focus"',
        ]
    path.write_text("\n".join(lines) + "\n", "utf-8")


async def run(ws: Workspace, url: str, concurrency: int, poll_scale: float) -> tuple[float, int]:
    async with RunwayClient("bench-key-not-real", url) as client:
        org = await client.organization()
        producer = RunwayProducer(
            client,
            ws.store,
            ws.cache.journal,
            org,
            RunwayOptions(concurrency=concurrency, poll_scale=poll_scale),
            Budget(None),
        )
        start = time.perf_counter()
        report = await Executor(ws.store, producer, lambda e: None).run(list(ws.graph.assets), ws.keys)
        wall = time.perf_counter() - start
    failed = [r for r in report.results if r.state != "done"]
    if failed:
        sys.exit(f"{len(failed)} assets failed: {failed[0].error}")
    return wall, len(report.results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--assets", type=int, default=40)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--poll-scale", type=float, default=0.1)
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeRunwayProcess("--concurrency", str(args.concurrency), latency=args.latency) as server,
    ):
        spec = Path(tmp) / "bench.yaml"
        make_spec(spec, args.assets)
        os.environ["VIDSPEC_CACHE_DIR"] = str(Path(tmp) / "cache")
        ws = Workspace.open(spec)
        wall, n = asyncio.run(run(ws, server.url, args.concurrency, args.poll_scale))
        stats = server.stats()
    ideal = math.ceil(n / args.concurrency) * args.latency
    polls = stats["polls"] / n
    print(
        f"{n} assets, concurrency {args.concurrency}, latency {args.latency:g} s per task, "
        f"poll scale {args.poll_scale:g}"
    )
    print(f"wall time      {wall:8.2f} s")
    print(f"ideal          {ideal:8.2f} s   (ceil({n}/{args.concurrency}) x {args.latency:g} s)")
    print(f"overhead       {100 * (wall / ideal - 1):8.1f} %   (target <= 15 %)")
    print(f"polls per task {polls:8.2f}     (target <= 4)")
    print(f"creates {stats['create_count']}, downloads {stats['downloads']}")
    ok = wall <= ideal * 1.15 and polls <= 4
    print(f"targets: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
