"""The fake in a child process (so a build can be SIGKILLed and restarted against the same server state).

``python -m vidspec.testing.fake_runway --port 0 --latency 0.5 --ready-file F`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from vidspec.testing.fake_runway.server import FakeRunway


class FakeRunwayProcess:
    """Runs the fake in a child process (so a build can be SIGKILLed and restarted against the same state)."""

    def __init__(
        self, *args: str, latency: float = 0.3, ready_file: Path | None = None, timeout: float = 20.0
    ) -> None:
        import httpx

        cmd = [
            sys.executable,
            "-m",
            "vidspec.testing.fake_runway",
            "--port",
            "0",
            "--latency",
            str(latency),
            *args,
        ]
        if ready_file is not None:
            cmd += ["--ready-file", str(ready_file)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.proc.kill()
            raise RuntimeError(f"fake runway did not start (exit code {self.proc.poll()})")
        self.url = line
        self._http = httpx.Client(base_url=line, timeout=timeout)

    def inject(self, kind: str, **params: Any) -> None:
        self._http.post("/_admin/inject", json={"kind": kind, **params}).raise_for_status()

    def set_org(self, **params: Any) -> None:
        self._http.post("/_admin/set_org", json=params).raise_for_status()

    def configure(self, **params: float) -> None:
        self._http.post("/_admin/config", json=params).raise_for_status()

    def stats(self) -> dict[str, Any]:
        resp = self._http.get("/_admin/stats")
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def raw_log(self) -> bytes:
        return self._http.get("/_admin/raw_log").content

    def stop(self) -> None:
        self._http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> FakeRunwayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; prints the URL on line 1 (and writes it to --ready-file, atomically)."""
    ap = argparse.ArgumentParser(
        prog="python -m vidspec.testing.fake_runway", description="A fake Runway API server."
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--url-ttl", type=float, default=3600.0)
    ap.add_argument("--output-scale", type=float, default=0.25)
    ap.add_argument("--credit-balance", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--valid-key", action="append", help="accept only these keys (repeatable)")
    ap.add_argument("--ready-file", type=Path)
    ns = ap.parse_args(argv)
    fake = FakeRunway(
        ns.latency, host=ns.host, port=ns.port, url_ttl=ns.url_ttl, output_scale=ns.output_scale,
        credit_balance=ns.credit_balance, concurrency=ns.concurrency,
        valid_keys=set(ns.valid_key) if ns.valid_key else None,
    ).start()  # fmt: skip
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(fake.url, flush=True)
    if ns.ready_file:
        tmp = ns.ready_file.with_name(ns.ready_file.name + ".tmp")
        tmp.write_text(fake.url + "\n")
        tmp.replace(ns.ready_file)
    done.wait()
    fake.stop()
    return 0
