"""Benchmark: vidspec's stitcher against the hand-written ffmpeg command it replaces.

    python bench/stitch.py [--runs 3] [--preset medium] [--scenes 10] [--moviepy]

A 10-scene project (5 s clips, 1280x720, 24 fps, testsrc2, made once and not timed) with a 3.5-4.5 s
narration per scene. Two cases, each run A/B alternately and reported as medians:

1. re-encode: 0.5 s crossfades. vidspec stitch() (force=True, in-process, probing and manifest
   included) against one `ffmpeg` xfade chain + adelay/amix with the same libx264 preset and CRF.
2. cuts: vidspec's fast path (concat demuxer, video stream-copied) against
   `ffmpeg -f concat -c:v copy` + the same narration mix.
3. (--moviepy, slow) the moviepy engine (output.engine: moviepy) on case 1's project, against the
   same hand-written ffmpeg xfade command.

The goal: <= 1.5x for case 1, close to stream copy for case 2. Case 3 is the price of the optional engine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidspec.media.probe import ffmpeg_exe, probe  # noqa: E402
from vidspec.media.stitch import stitch  # noqa: E402
from vidspec.media.timeline import SceneCut, Timeline  # noqa: E402

W, H, FPS, CLIP = 1280, 720, 24, 5.0
XFADE = 0.5
CRF = 20


def _ff(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def make_inputs(d: Path, n: int) -> tuple[list[Path], list[Path]]:
    clips, narrs = [], []
    for i in range(n):
        clip, narr = d / f"clip_{i:02d}.mp4", d / f"narr_{i:02d}.wav"
        _ff(
            "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}:duration={CLIP}",
            "-vf", f"hue=h={i * 36}", "-c:v", "libx264", "-preset", "medium", "-crf", "23",
            "-pix_fmt", "yuv420p", str(clip),
        )  # fmt: skip
        length = 3.5 + (i % 5) * 0.25  # 3.5 .. 4.5 s
        freq = 220 + i * 55
        _ff("-f", "lavfi", "-i", f"sine=f={freq}:d={length}", "-af", "tremolo=f=4:d=0.5", str(narr))
        clips.append(clip)
        narrs.append(narr)
    return clips, narrs


def timeline(
    clips: list[Path], narrs: list[Path], out: Path, preset: str, transition: str, engine: str = "ffmpeg"
) -> Timeline:
    scenes = tuple(
        SceneCut(
            f"s{i}", c, CLIP, transition=transition if i else "cut",  # type: ignore[arg-type]
            transition_duration=XFADE, narration=n, narration_text=f"Scene {i}. A sentence of narration.",
        )
        for i, (c, n) in enumerate(zip(clips, narrs, strict=True))
    )  # fmt: skip
    return Timeline(scenes, out, W, H, fps=FPS, preset=preset, crf=CRF, engine=engine)  # type: ignore[arg-type]


def hand_xfade(clips: list[Path], narrs: list[Path], out: Path, preset: str) -> list[str]:
    n = len(clips)
    ins = [a for p in [*clips, *narrs] for a in ("-i", str(p))]
    g, prev = [], "[0:v]"
    for k in range(1, n):
        lab = "[v]" if k == n - 1 else f"[x{k}]"
        g.append(f"{prev}[{k}:v]xfade=transition=fade:duration={XFADE}:offset={k * (CLIP - XFADE)}{lab}")
        prev = lab
    for k in range(n):
        g.append(f"[{n + k}:a]aresample=44100,adelay={round(k * (CLIP - XFADE) * 1000)}:all=1[n{k}]")
    g.append("".join(f"[n{k}]" for k in range(n)) + f"amix=inputs={n}:normalize=0:duration=longest[a]")
    total = n * CLIP - (n - 1) * XFADE
    return [
        *ins, "-filter_complex", ";".join(g), "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", preset, "-crf", str(CRF), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", "-ar", "44100", "-ac", "2", "-t", str(total), "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def hand_concat(clips: list[Path], narrs: list[Path], out: Path, listing: Path) -> list[str]:
    n = len(clips)
    listing.write_text("".join(f"file '{c}'\n" for c in clips))
    ins = [a for p in narrs for a in ("-i", str(p))]
    g = [f"[{k + 1}:a]aresample=44100,adelay={round(k * CLIP * 1000)}:all=1[n{k}]" for k in range(n)]
    g.append("".join(f"[n{k}]" for k in range(n)) + f"amix=inputs={n}:normalize=0:duration=longest,apad[a]")
    return [
        "-f", "concat", "-safe", "0", "-i", str(listing), *ins, "-filter_complex", ";".join(g),
        "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", "-ar", "44100", "-ac", "2",
        "-t", str(n * CLIP), "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds; CPU counts this process and its ffmpeg children, and is steadier on a busy box."""
    c, t = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t, _cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--scenes", type=int, default=10)
    ap.add_argument("--moviepy", action="store_true", help="also time the moviepy engine (slow)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="vidspec-bench-") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        clips, narrs = make_inputs(d, args.scenes)
        print(f"inputs: {args.scenes} clips + narrations in {time.perf_counter() - t0:.1f} s (not timed)")

        xf = timeline(clips, narrs, d / "vs_xfade" / "film.mp4", args.preset, "crossfade")
        cut = timeline(clips, narrs, d / "vs_cut" / "film.mp4", args.preset, "cut")
        mp = timeline(clips, narrs, d / "vs_moviepy" / "film.mp4", args.preset, "crossfade", "moviepy")
        ff_x = hand_xfade(clips, narrs, d / "ff_xfade.mp4", args.preset)
        ff_c = hand_concat(clips, narrs, d / "ff_cut.mp4", d / "list.txt")
        fast_flags: list[bool] = []

        def vs(tl: Timeline) -> Callable[[], object]:
            return lambda: fast_flags.append(stitch(tl, force=True).fast_path)

        cases = [
            (f"crossfade 0.5 s, re-encode ({args.preset})", vs(xf), lambda: _ff(*ff_x)),
            ("cuts, fast path vs concat -c:v copy", vs(cut), lambda: _ff(*ff_c)),
        ]
        if args.moviepy:
            cases.append((f"crossfade, moviepy engine ({args.preset})", vs(mp), lambda: _ff(*ff_x)))
        rows = []
        for name, a, b in cases:
            ta: list[tuple[float, float]] = []
            tb: list[tuple[float, float]] = []
            for r in range(args.runs):
                # alternate which goes first, so neither always gets the warmer cache
                if r % 2 == 0:
                    ta.append(timed(a))
                    tb.append(timed(b))
                else:
                    tb.append(timed(b))
                    ta.append(timed(a))
            rows.append((name, ta, tb))

        med = statistics.median
        print(f"\nmedian of {args.runs} run(s); vidspec runs in-process (probe + plan + encode + manifest)")
        print(
            f"{'case':<42} {'vidspec s':>9} {'ffmpeg s':>9} {'ratio':>6}   "
            f"{'CPU vidspec':>11} {'CPU ffmpeg':>10} {'ratio':>6}   wall spread vidspec / ffmpeg"
        )
        for name, ta, tb in rows:
            wa, wb = med(w for w, _ in ta), med(w for w, _ in tb)
            ca, cb = med(c for _, c in ta), med(c for _, c in tb)
            spread = (
                f"{min(w for w, _ in ta):.2f}-{max(w for w, _ in ta):.2f} / "
                f"{min(w for w, _ in tb):.2f}-{max(w for w, _ in tb):.2f}"
            )
            print(
                f"{name:<42} {wa:>9.2f} {wb:>9.2f} {wa / wb:>5.2f}x   {ca:>11.2f} {cb:>10.2f} {ca / cb:>5.2f}x   {spread}"
            )
        print(f"\nfast path taken for the cuts case: {all(fast_flags[args.runs : 2 * args.runs])}")
        outputs = [
            ("vidspec crossfade", xf.output),
            ("ffmpeg crossfade", d / "ff_xfade.mp4"),
            ("vidspec cuts", cut.output),
            ("ffmpeg cuts", d / "ff_cut.mp4"),
        ]
        if args.moviepy:
            outputs.append(("vidspec moviepy", mp.output))
        for label, p in outputs:
            info = probe(p)
            print(
                f"  {label:<18} {info.duration:6.2f} s  {info.width}x{info.height} {info.fps} fps  {p.stat().st_size / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main()
