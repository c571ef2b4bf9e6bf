"""Build events -> a rich live display (one line per asset), or JSON lines for CI."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

STYLE = {
    "done": "green",
    "cached": "green",
    "refetched": "green",
    "refetching": "cyan",
    "failed": "red",
    "skipped": "red",
    "queued": "yellow",
    "running": "cyan",
    "downloading": "cyan",
    "ambiguous": "magenta",
    "retrying": "magenta",
}


class JsonLines:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event, default=str) + "\n")
        self.out.flush()

    def stitch_progress(self, done: float, total: float) -> None:
        pass

    def __enter__(self) -> JsonLines:
        return self

    @contextmanager
    def paused(self) -> Iterator[None]:
        yield

    def __exit__(self, *exc: object) -> None:
        pass


class LiveView:
    """One line per asset: state, elapsed time, credits; the totals; a bar for the final encode."""

    def __init__(self, console: Console, total_credits: int) -> None:
        self.console = console
        self.total = total_credits
        self.rows: dict[str, dict[str, Any]] = {}
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.backend = "runway"
        self.encode = Progress(
            TextColumn("encode"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=console,
        )
        self._bar: Any = None
        self.live = Live(self._render(), console=console, refresh_per_second=4, transient=False)
        self._started = False

    def __enter__(self) -> LiveView:
        return self  # the display starts with the first asset, so early errors print alone

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self.live.update(self._render())
            self.live.stop()
            self.console.print()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the user answers a prompt."""
        if self._started:
            self.live.stop()
        try:
            yield
        finally:
            if self._started:
                self.live.start()

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") == "plan":
            self.total = int(event["total_credits"])
            self.backend = str(event["backend"])
        if event.get("event") == "asset":
            name = event["asset"]
            self.started.setdefault(name, time.monotonic())
            if event.get("state") in ("done", "failed", "skipped", "cached", "refetched"):
                self.ended[name] = time.monotonic()
            row = self.rows.setdefault(name, {})
            row.update(event)
            if not self._started:
                self._started = True
                self.live.start()
        if self._started:
            self.live.update(self._render())

    def stitch_progress(self, done: float, total: float) -> None:
        if not self._started:
            self._started = True
            self.live.start()
        if self._bar is None:
            self._bar = self.encode.add_task("encode", total=max(total, 0.001))
        self.encode.update(self._bar, completed=min(done, total))
        self.live.update(self._render())

    def _render(self) -> Group:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("asset", "model", "state", "time", "credits"):
            table.add_column(col, justify="right" if col in ("time", "credits") else "left")
        spent = 0
        for name, row in self.rows.items():
            state = row.get("state", "")
            if state == "running" and row.get("progress") is not None:
                state = f"running {row['progress'] * 100:.0f}%"
            charged = row.get("credits_charged")
            if row.get("state") == "done" and charged is not None:
                spent += int(charged)
            end = self.ended.get(name, time.monotonic())
            elapsed = end - self.started.get(name, end)
            style = STYLE.get(str(row.get("state")), "")
            table.add_row(
                name,
                str(row.get("model", "")),
                f"[{style}]{state}[/]" if style else state,
                f"{elapsed:.0f}s",
                str(row.get("credits", "")),
            )
        if self.backend == "runway":
            footer = f"credits spent: {spent} of {self.total} planned"
        else:
            footer = f"free local preview (on Runway this would cost {self.total} credits)"
        parts: list[Any] = [table, footer]
        if self._bar is not None:
            parts.append(self.encode)
        return Group(*parts)
