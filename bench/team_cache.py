#!/usr/bin/env python3
"""The team cache against a real S3 API on loopback (moto's server mode): the wall time of building the
examples (every asset; preview backend, no stitch) when the assets come from the team cache (a fresh local
cache: every object downloaded and sha256-checked) against when they come from the local cache; then the
upload and download throughput of vidspec's S3 client (boto3) against the same server, beside obstore's.

    python bench/team_cache.py [--size-mb 8] [--objects 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import S3Server  # noqa: E402
from tests.helpers import copy_examples, example_specs  # noqa: E402
from vidspec.store.remote import S3Blobs  # noqa: E402


def vidspec(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "vidspec", *args], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"vidspec {' '.join(args)} failed:\n{r.stderr}")
    return time.perf_counter() - started


def build_all(specs: list[Path], cache: Path, url: str, env: dict[str, str]) -> float:
    total = 0.0
    for spec in specs:
        args = ["build", str(spec), "--backend", "preview", "--no-stitch", "--json"]
        total += vidspec(*args, "--cache-dir", str(cache), "--cache-url", url, env=env)
    return total


def throughput(
    client: str, blobs: S3Blobs, server: S3Server, tmp: Path, size: int, n: int
) -> tuple[float, float]:
    data = os.urandom(size)
    src = tmp / "blob.bin"
    src.write_bytes(data)
    if client == "boto3":
        t = time.perf_counter()
        for i in range(n):
            blobs.upload(f"bench/{client}/{i}", src)
        up = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(n):
            blobs.download(f"bench/{client}/{i}", tmp / "back.bin")
        down = time.perf_counter() - t
    else:
        import obstore
        from obstore.store import S3Store

        store = S3Store(
            blobs.bucket, endpoint=server.url, region="us-east-1", client_options={"allow_http": True},
            access_key_id=os.environ["AWS_ACCESS_KEY_ID"], secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        )  # fmt: skip
        t = time.perf_counter()
        for i in range(n):
            obstore.put(store, f"bench/{client}/{i}", src)
        up = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(n):
            with open(tmp / "back.bin", "wb") as f:
                for chunk in obstore.get(store, f"bench/{client}/{i}"):
                    f.write(chunk)
        down = time.perf_counter() - t
    mb = size * n / 1e6
    return mb / up, mb / down


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=float, default=8.0)
    ap.add_argument("--objects", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = S3Server()
    os.environ.update(
        AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret",
        AWS_REGION="us-east-1",
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("RUNWAYML_API_SECRET", None)
    server.client().create_bucket(Bucket="bench-team")
    url = "s3://bench-team/films"
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            specs = example_specs(copy_examples(tmp / "ex"))
            first = build_all(specs, tmp / "alice", url, env)  # renders and uploads every asset
            team, local = [], []
            for i in range(args.repeat):
                team.append(build_all(specs, tmp / f"bob{i}", url, env))  # fresh local cache: all downloaded
                local.append(build_all(specs, tmp / f"bob{i}", url, env))  # the same cache again: all local
            objects = sum(1 for p in (tmp / "alice").rglob("objects/*/*") if p.is_file())
            size = sum(p.stat().st_size for p in (tmp / "alice").rglob("objects/*/*") if p.is_file())
            print(
                f"examples: {len(specs)} specs, {objects} assets, {size / 1e6:.1f} MB; preview backend, no stitch"
            )
            print(f"{'':34}{'wall (median of ' + str(args.repeat) + ')':>22}")
            print(f"{'first build (render + upload)':34}{first:>20.2f} s")
            print(f"{'build hitting the team cache':34}{statistics.median(team):>20.2f} s")
            print(f"{'build hitting the local cache':34}{statistics.median(local):>20.2f} s")
            print(
                f"team - local: {statistics.median(team) - statistics.median(local):+.2f} s for {size / 1e6:.1f} MB"
            )
            blobs = S3Blobs("bench-team", "")
            size_b = int(args.size_mb * 1e6)
            print(f"\nthroughput against moto on loopback, {args.objects} x {args.size_mb:g} MB objects:")
            print(
                f"{'client':10}{'upload MB/s':>14}{'download MB/s':>16}   (median of {args.repeat}, alternating)"
            )
            rates: dict[str, list[tuple[float, float]]] = {"boto3": [], "obstore": []}
            for _ in range(args.repeat):  # alternating: a busy machine slows both alike
                for client in rates:
                    rates[client].append(throughput(client, blobs, server, tmp, size_b, args.objects))
            for client, runs in rates.items():
                up = statistics.median(r[0] for r in runs)
                down = statistics.median(r[1] for r in runs)
                print(f"{client:10}{up:>14.1f}{down:>16.1f}")
            shutil.rmtree(tmp / "ex", ignore_errors=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
