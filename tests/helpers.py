"""Helpers shared by the CLI integration tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from vidspec.app.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process, as `vidspec ARGS`; never a traceback."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def summary(out: str) -> dict[str, Any]:
    """The last JSON line of `build --json`: the summary event."""
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["event"] == "summary", out
    result: dict[str, Any] = lines[-1]
    return result


def ff(*args: str) -> None:
    """Run the bundled ffmpeg quietly (test inputs, frame grabs)."""
    import subprocess

    from vidspec.media.probe import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def video_stream_length(path: object) -> float:
    """Length of the video stream alone (the container's duration includes AAC padding)."""
    import subprocess

    from vidspec.media.probe import ffmpeg_exe

    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    h, m, s = out.rsplit("time=", 1)[1].split()[0].split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def example_specs(src: Path = EXAMPLES) -> list[Path]:
    """The example projects in ``src``: never a lockfile or schema that a user's own run left there."""
    leftovers = (".lock.json", ".schema.json")
    return sorted(
        p
        for p in src.iterdir()
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json") and not p.name.endswith(leftovers)
    )


def copy_examples(dest: Path, src: Path = EXAMPLES) -> Path:
    """The example specs and their assets, copied to ``dest``; never the cache, the outputs or the lockfiles
    that a user's runs left beside them (the README's Quick start builds into examples/)."""
    dest.mkdir(parents=True)
    for spec in example_specs(src):
        shutil.copy2(spec, dest / spec.name)
    shutil.copytree(src / "assets", dest / "assets", ignore=shutil.ignore_patterns(".*"))
    return dest


def loudness(path: Path, start: float | None = None, length: float | None = None) -> Any:
    """EBU R128 figures of ``path`` (or of a window of it), from loudnorm in print mode."""
    from vidspec.media.loudness import parse_loudnorm
    from vidspec.media.probe import run_ffmpeg

    window = [] if start is None or length is None else ["-ss", f"{start:.3f}", "-t", f"{length:.3f}"]
    proc = run_ffmpeg(
        "-nostats", *window, "-i", str(path), "-vn", "-af", "loudnorm=print_format=json", "-f", "null", "-"
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    return parse_loudnorm(proc.stderr)
