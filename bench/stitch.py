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

    python bench/stitch.py --long [--sizes 10,40,100] [--runs 1]

Long films (segment-wise stitching), each side run as its own process and measured over its whole process
tree (wall time, CPU, and the peak of the summed PSS, sampled every 50 ms):

4. full stitch of N crossfaded scenes (the 10 clips reused in turn), vidspec (fresh segment cache) against the
   hand-written xfade command, for every N in --sizes.
5. re-stitch after one of 10 scenes changed (its clip replaced), against the full stitch of the same 10.

Targets: peak memory <= 1 GiB at 100 scenes and within 20% of the 10-scene figure; re-stitch <= 0.25x the
full stitch; full stitch <= 1.15x the hand-written command.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidspec.media.probe import ffmpeg_exe, probe  # noqa: E402
from vidspec.media.stitch import stitch  # noqa: E402
from vidspec.media.timeline import SceneCut, Timeline  # noqa: E402

# ---------------------------------------------------------------- whole process tree: time, CPU, peak PSS


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_tree(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MiB of the PSS summed over the process tree) of one command."""
    peak = 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            todo, total = [proc.pid], 0
            while todo:
                pid = todo.pop()
                total += _pss_kib(pid)
                todo += _children(pid)
            peak = max(peak, total)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    rc = proc.wait()
    wall = time.perf_counter() - t
    stop.set()
    sampler.join()
    if rc != 0:
        raise SystemExit(f"{cmd[:3]}... failed with {rc}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, peak / 1024


def vidspec_cmd(tl: Timeline, d: Path, name: str) -> list[str]:
    """A python process that stitches ``tl`` (force): vidspec as a user runs it, measured like ffmpeg."""
    blob = d / f"{name}.timeline.pickle"
    blob.write_bytes(pickle.dumps(tl))
    code = (
        "import pickle, sys; sys.path.insert(0, sys.argv[2]); from vidspec.media.stitch import stitch; "
        "r = stitch(pickle.load(open(sys.argv[1], 'rb')), force=True); "
        "print(f'    [{r.method}: {len(r.segments_encoded)} segment(s) encoded, {r.segments_reused} reused]')"
    )
    return [sys.executable, "-c", code, str(blob), str(Path(__file__).resolve().parent.parent)]


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


def long_films(
    d: Path, clips: list[Path], narrs: list[Path], sizes: list[int], runs: int, preset: str
) -> None:
    """Cases 4 and 5 (see the module docstring)."""
    med = statistics.median
    rows: list[tuple[str, list[tuple[float, float, float]], list[tuple[float, float, float]], str]] = []
    for n in sizes:
        cs = [clips[i % len(clips)] for i in range(n)]
        ns = [narrs[i % len(narrs)] for i in range(n)]
        ta, tb = [], []
        for r in range(runs):
            seg_dir = d / f"segs_{n}_{r}"  # fresh: a full stitch encodes every segment
            tl = replace(
                timeline(cs, ns, d / f"long_{n}" / "film.mp4", preset, "crossfade"),
                segments=seg_dir,
                loudness_cache=seg_dir / "loudness",  # as a build keeps it in the cache: fresh here too
            )
            a = vidspec_cmd(tl, d, f"long_{n}_{r}")
            b = [
                ffmpeg_exe(),
                "-y",
                "-hide_banner",
                "-loglevel",
                "error",
                *hand_xfade(cs, ns, d / f"ff_{n}.mp4", preset),
            ]
            print(f"  {n} scenes, run {r + 1}: vidspec ...", flush=True)
            if r % 2 == 0:
                ta.append(run_tree(a))
                tb.append(run_tree(b))
            else:
                tb.append(run_tree(b))
                ta.append(run_tree(a))
            print(
                f"    vidspec {ta[-1][0]:.2f} s {ta[-1][2]:.0f} MiB; ffmpeg {tb[-1][0]:.2f} s {tb[-1][2]:.0f} MiB",
                flush=True,
            )
        rows.append((f"full stitch, {n} crossfaded scenes", ta, tb, "hand-written ffmpeg"))

    # 5. one of 10 scenes changed: its clip replaced by another one (another hue), then re-stitched
    n = 10
    cs, ns = clips[:n], narrs[:n]
    other = d / "clip_changed.mp4"
    _ff(
        "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate={FPS}:duration={CLIP}",
        "-vf", "hue=h=200,negate", "-c:v", "libx264", "-preset", "medium", "-crf", "23",
        "-pix_fmt", "yuv420p", str(other),
    )  # fmt: skip
    ta, tb = [], []
    for r in range(runs):
        seg_dir = d / f"segs_change_{r}"
        base = replace(
            timeline(cs, ns, d / "change" / "film.mp4", preset, "crossfade"),
            segments=seg_dir,
            loudness_cache=seg_dir / "loudness",  # the sound is unchanged: its master is remembered
        )
        changed = replace(base, scenes=tuple(
            replace(s, video=other) if i == n // 2 else s for i, s in enumerate(base.scenes)
        ))  # fmt: skip
        print(f"  re-stitch, run {r + 1}: full then one scene changed ...", flush=True)
        tb.append(run_tree(vidspec_cmd(base, d, f"change_full_{r}")))
        ta.append(run_tree(vidspec_cmd(changed, d, f"change_one_{r}")))
        print(f"    full {tb[-1][0]:.2f} s; after one change {ta[-1][0]:.2f} s", flush=True)
    rows.append((f"re-stitch after 1 of {n} scenes changed", ta, tb, "full stitch (vidspec)"))

    print(
        f"\nlong films: median of {runs} run(s), each side its own process tree; load now {os.getloadavg()}"
    )
    print(
        f"{'case':<40} {'vidspec s':>9} {'other s':>8} {'ratio':>6}  {'CPU vs':>7} {'CPU oth':>7} {'ratio':>6}  "
        f"{'peak MiB vs':>11} {'other':>7}   against"
    )
    for name, ta, tb, against in rows:
        wa, wb = med(x[0] for x in ta), med(x[0] for x in tb)
        ca, cb = med(x[1] for x in ta), med(x[1] for x in tb)
        ma, mb = max(x[2] for x in ta), max(x[2] for x in tb)
        print(
            f"{name:<40} {wa:>9.2f} {wb:>8.2f} {wa / wb:>5.2f}x  {ca:>7.1f} {cb:>7.1f} {ca / cb:>5.2f}x  "
            f"{ma:>11.0f} {mb:>7.0f}   {against}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--scenes", type=int, default=10)
    ap.add_argument("--moviepy", action="store_true", help="also time the moviepy engine (slow)")
    ap.add_argument("--long", action="store_true", help="long films: segment-wise stitching (cases 4 and 5)")
    ap.add_argument("--sizes", default="10,40,100", help="scene counts for case 4 (with --long)")
    args = ap.parse_args()
    if args.long:
        with tempfile.TemporaryDirectory(prefix="vidspec-bench-") as tmp:
            d = Path(tmp)
            t0 = time.perf_counter()
            clips, narrs = make_inputs(d, 10)
            print(
                f"inputs: 10 clips + narrations in {time.perf_counter() - t0:.1f} s (not timed); load {os.getloadavg()}"
            )
            long_films(d, clips, narrs, [int(x) for x in args.sizes.split(",")], args.runs, args.preset)
        return

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
