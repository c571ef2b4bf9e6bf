"""The stitch manifest: what an output was made from, whether it is still up to date, and how a finished
render is published beside it without ever leaving a manifest that vouches for the wrong file."""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vidspec.core.hashing import canonical_json, file_sha256, sha256_hex
from vidspec.errors import StitchError
from vidspec.media.captions import Cue, to_srt, to_vtt
from vidspec.media.placement import ScenePlacement
from vidspec.media.probe import ffmpeg_exe
from vidspec.media.timeline import Timeline
from vidspec.store.atomic import atomic_write_text

__all__ = [
    "ENGINE_VERSION",
    "StitchResult",
    "digest_of",
    "manifest_inputs",
    "publish",
    "sidecar_paths",
    "up_to_date",
    "work_dir",
]

ENGINE_VERSION = "vidspec-stitch/2"  # bump when the same inputs would give a different output


@dataclass(frozen=True)
class StitchResult:
    path: Path
    duration: float  # planned total, seconds
    skipped: bool
    fast_path: bool
    srt: Path
    vtt: Path
    manifest: Path
    cues: tuple[Cue, ...]
    # how the picture was made: "segments", "single-graph", "fast-path" (stream copy) or "moviepy"
    method: str = ""
    segments_encoded: tuple[str, ...] = ()  # labels of the segments encoded by this stitch
    segments_reused: int = 0  # segments taken from the segment cache

    def encodes(self) -> dict[str, Any]:
        """Which encodes ran (the build's ``--json`` keys): method, segments encoded (labels) and reused."""
        return {
            "method": "skipped" if self.skipped else self.method,
            "segments_encoded": list(self.segments_encoded),
            "segments_reused": self.segments_reused,
        }


def sidecar_paths(output: Path) -> tuple[Path, Path, Path]:
    """(srt, vtt, manifest) beside ``output``."""
    return (
        output.with_suffix(".srt"),
        output.with_suffix(".vtt"),
        output.with_name(output.name + ".manifest.json"),
    )


def _renderer(timeline: Timeline) -> str:
    """Which engine draws the picture; moviepy's version with it (read from its metadata, not imported)."""
    if timeline.engine != "moviepy":
        return timeline.engine
    try:
        return f"moviepy {importlib.metadata.version('moviepy')}"
    except importlib.metadata.PackageNotFoundError:
        return "moviepy"


def manifest_inputs(timeline: Timeline) -> dict[str, Any]:
    """Every input's identity (its cache key, else its sha256) and every setting; no paths, no scene ids."""

    def ident(key: str | None, path: Path) -> str:
        if key:
            return key
        try:
            return "sha256:" + file_sha256(path)
        except OSError:
            raise StitchError(f"input file not found: {path}") from None

    scenes = []
    for s in timeline.scenes:
        keys = s.keys
        voice_key = keys.get("dub") or keys.get("narration")
        sfx = []
        for i, c in enumerate(s.sfx):
            key = keys.get(f"sfx.{i}") or (keys.get("sfx") if len(s.sfx) == 1 else None)
            sfx.append({"at": c.at, "volume": c.volume, "input": ident(key, c.path)})
        scenes.append(
            {
                "video": ident(keys.get("video"), s.video),
                "narration": None if s.narration is None else ident(voice_key, s.narration),
                "narration_text": s.narration_text,
                "narration_offset": s.narration_offset,
                "fit_audio": s.fit_audio,
                "transition": s.transition,
                "transition_duration": s.transition_duration,
                "fit": s.fit,
                "keep_audio": s.keep_audio,
                "sfx": sfx,
                "keys": dict(sorted(keys.items())),
            }
        )
    music = None
    if timeline.music is not None:
        m = timeline.music
        music = {
            "input": ident(m.key, m.path),
            "volume": m.volume,
            "fade_in": m.fade_in,
            "fade_out": m.fade_out,
            "duck": m.duck,
        }
    return {
        "engine": ENGINE_VERSION,
        "renderer": _renderer(timeline),
        "ffmpeg": Path(ffmpeg_exe()).name,  # the bundled binary's name carries its version
        "width": timeline.width,
        "height": timeline.height,
        "fps": timeline.fps,
        "captions": timeline.captions,
        "preset": timeline.preset,
        "crf": timeline.crf,
        "music": music,
        "scenes": scenes,
        "loudness": None if timeline.loudness is None else asdict(timeline.loudness),
    }


def digest_of(inputs: dict[str, Any]) -> str:
    return "sha256:" + sha256_hex(canonical_json(inputs))


def up_to_date(output: Path, digest: str) -> StitchResult | None:
    """The recorded result when the output, both caption files and a manifest of ``digest`` are all there
    and the output is the very file the manifest describes (same size and mtime); None otherwise."""
    srt, vtt, manifest = sidecar_paths(output)
    if not (output.is_file() and srt.is_file() and vtt.is_file() and manifest.is_file()):
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("digest") != digest:
            return None
        result = data["result"]
        st = output.stat()
        if [st.st_size, st.st_mtime_ns] != result["file"]:
            return None  # the output was replaced or touched since: it is not what the manifest describes
        cues = tuple(Cue(float(a), float(b), str(t)) for a, b, t in result["cues"])
        return StitchResult(
            output,
            float(result["duration"]),
            True,
            bool(result["fast_path"]),
            srt,
            vtt,
            manifest,
            cues,
            str(result.get("method", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: just stitch again


def _tmp_prefix(output: Path) -> str:
    return f".{output.name}.stitch-"


def _remove_stale_tmp(output: Path) -> None:
    """Temp dirs of killed runs (their pid is gone); a live concurrent run's dir is left alone."""
    prefix = _tmp_prefix(output)
    directory = output.parent
    for entry in os.listdir(directory):  # not glob: the name may hold [ ] * ?
        m = re.match(r"(\d+)-", entry[len(prefix) :]) if entry.startswith(prefix) else None
        d = directory / entry
        if not m or not d.is_dir():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def work_dir(output: Path) -> Path:
    """A fresh hidden temp dir beside ``output`` (named after this pid), after clearing those of dead runs."""
    output.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(output)
    return Path(tempfile.mkdtemp(prefix=f"{_tmp_prefix(output)}{os.getpid()}-", dir=output.parent))


def publish(
    rendered: Path,
    output: Path,
    *,
    digest: str,
    inputs: dict[str, Any],
    places: Sequence[ScenePlacement],
    cues: Sequence[Cue],
    total: float,
    fast_path: bool,
    method: str = "",
    segments_encoded: Sequence[str] = (),
    segments_reused: int = 0,
) -> StitchResult:
    """Move ``rendered`` onto ``output``, write both caption files, and the manifest last."""
    srt, vtt, manifest = sidecar_paths(output)
    # The old manifest must not outlive the file it described, even for a moment.
    with contextlib.suppress(FileNotFoundError):
        manifest.unlink()
    os.replace(rendered, output)
    st = output.stat()
    atomic_write_text(srt, to_srt(cues))
    atomic_write_text(vtt, to_vtt(cues))
    record = {
        "digest": digest,
        "inputs": inputs,
        "result": {
            "duration": total,
            "fast_path": fast_path,
            "method": method,
            "segments_encoded": list(segments_encoded),
            "segments_reused": segments_reused,
            "file": [st.st_size, st.st_mtime_ns],
            "cues": [[c.start, c.end, c.text] for c in cues],
            "scenes": [asdict(p) for p in places],
        },
    }
    atomic_write_text(manifest, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return StitchResult(
        output,
        total,
        False,
        fast_path,
        srt,
        vtt,
        manifest,
        tuple(cues),
        method,
        tuple(segments_encoded),
        segments_reused,
    )
