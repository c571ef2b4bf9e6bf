#!/usr/bin/env python3
"""Time `vidspec validate` and `vidspec plan --json` on a 1,000-scene spec, as whole processes, against
merely loading the same file with ruamel.yaml (also a whole process). Target: <= 2.0x and < 1.5 s.

    python bench/plan_large.py [--scenes 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = [("gen4.5", 5), ("veo3.1_fast", 6), ("gen4.5", 8), ("veo3.1", 4)]


def make_spec(n: int) -> str:
    lines = ["version: 1", "name: large", "defaults:", '  ratio: "1280:720"', "  voice: Maya", "scenes:"]
    for i in range(n):
        model, duration = MODELS[i % len(MODELS)]
        lines += [
            f"  - id: scene-{i:04d}",
            f"    model: {model}",
            f"    duration: {duration}",
            f'    prompt: "Shot {i}: a lantern-lit alley at night, rain on cobblestones, slow dolly-in"',
            f'    narration: "Scene {i} narration: the city keeps its secrets until morning."',
        ]
        if i % 3 == 0:
            lines.append(f'    sfx: {{prompt: "rain and distant traffic {i}", duration: 4}}')
        if i % 4 == 1:
            lines += ["    transition: crossfade", "    transition_duration: 0.5"]
    return "\n".join(lines) + "\n"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        sys.exit(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "large.yaml"
        spec.write_text(make_spec(args.scenes), "utf-8")
        py = sys.executable
        cases = {
            "ruamel.yaml load": [
                py,
                "-c",
                f"from ruamel.yaml import YAML; YAML(typ='rt').load(open({str(spec)!r}))",
            ],
            "vidspec validate": [py, "-m", "vidspec", "validate", str(spec)],
            "vidspec plan --json": [
                py,
                "-m",
                "vidspec",
                "plan",
                "--json",
                "--cache-dir",
                str(Path(tmp) / "c"),
                str(spec),
            ],
        }
        for cmd in cases.values():  # warm-up (imports into the page cache)
            timed(cmd)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():  # alternate, so drift hits every case alike
                times[name].append(timed(cmd))
        base = statistics.median(times["ruamel.yaml load"])
        print(
            f"{args.scenes} scenes, {spec.stat().st_size / 1024:.0f} KiB, median of {args.runs} runs (whole processes)"
        )
        print(f"{'case':<22}{'median s':>10}{'min s':>8}{'max s':>8}{'vs load':>9}")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"{name:<22}{med:>10.3f}{min(ts):>8.3f}{max(ts):>8.3f}{med / base:>8.2f}x")
        worst = max(statistics.median(times[n]) for n in cases if n.startswith("vidspec"))
        ok = worst / base <= 2.0 and worst < 1.5
        print(f"target <= 2.0x the plain load and < 1.5 s: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
