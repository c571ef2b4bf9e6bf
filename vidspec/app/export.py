"""`vidspec export`: the cut as an editable timeline (OpenTimelineIO, Final Cut Pro XML, CMX 3600 EDL).

Nothing is generated or stitched: every asset must already be in the cache (``vidspec build``). The
timeline is the stitcher's (media.timeline, placed by media.placement), converted by media.interchange.
One timeline per final cut (``output``, or each of ``outputs``), in ``--out`` (default: the film's folder)
as ``<film stem>.otio|.fcpxml|.edl``; media are
referenced from the cache by absolute path, or with ``--copy-media`` copied into ``<film stem>.media/``
beside the timeline (the .otio then refers to them by relative path, so the folder can be moved).
An EDL holds one picture track (CMX 3600 has no room for the sound layout): use .otio or .fcpxml for it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vidspec.app.workspace import Workspace
from vidspec.core.outputs import OutputSpec
from vidspec.core.project_root import ProjectPaths
from vidspec.errors import ConfigError, ExportError, WriteError
from vidspec.media.loudness import plan_levels
from vidspec.media.placement import caption_cues, measure, plan_scenes, total_frames
from vidspec.media.probe import audio_length
from vidspec.media.timeline import Timeline, build_timeline
from vidspec.store.atomic import atomic_write_text

__all__ = ["FORMATS", "ExportResult", "cached_assets", "export"]

Format = Literal["otio", "fcpxml", "edl"]
FORMATS: dict[str, tuple[str, str]] = {  # format -> (suffix, OTIO adapter)
    "otio": (".otio", "otio_json"),
    "fcpxml": (".fcpxml", "fcpx_xml"),
    "edl": (".edl", "cmx_3600"),
}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    frames: int
    fps: int
    tracks: int
    media: tuple[Path, ...]  # the files the timeline refers to
    copied: bool


def cached_assets(ws: Workspace) -> tuple[dict[str, Path], dict[str, str]]:
    """Every asset's cached file and sha256; ExportError naming the ones not built."""
    paths: dict[str, Path] = {}
    sums: dict[str, str] = {}
    missing: list[str] = []
    store = ws.store
    for asset in ws.graph.assets:
        found = store.get(ws.keys[asset.name])
        if found is None:
            missing.append(asset.name)
            continue
        record, path = found
        paths[asset.name] = path
        sums[str(path)] = record.output_sha256
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise ExportError(
            f"{len(missing)} asset{'s are' if len(missing) > 1 else ' is'} not built yet ({ws.namespace}): {shown}. "
            f"Run `vidspec build {ws.spec}` first"
            + (" (or choose --backend preview)" if ws.namespace == "runway" else "")
        )
    return paths, sums


def _media_names(tl: Timeline) -> dict[Path, str]:
    """A readable, unique file name for every media file the timeline uses (for --copy-media)."""
    names: dict[Path, str] = {}

    def name(path: Path, stem: str) -> None:
        if path not in names:
            names[path] = f"{stem}{path.suffix.lower()}"

    for s in tl.scenes:
        name(s.video, f"{s.scene_id}.video")
        if s.narration is not None:
            name(s.narration, f"{s.scene_id}.narration")
        for i, cue in enumerate(s.sfx):
            name(cue.path, f"{s.scene_id}.sfx" + (f"{i + 1}" if len(s.sfx) > 1 else ""))
    if tl.music is not None:
        name(tl.music.path, f"music.{tl.music.path.stem}")
    return names


def _check_output(paths: ProjectPaths, file: Path) -> None:
    problem = paths.output_problem(file)
    if problem is not None:
        raise ConfigError(f"not writing {os.path.normpath(file)}: it {problem[1]}")


def export(
    spec: Path,
    fmt: Format,
    *,
    out_dir: Path | None = None,
    copy_media: bool = False,
    namespace: str = "runway",
    cache_dir: Path | None = None,
    allow: Sequence[Path] = (),
) -> list[ExportResult]:
    """One timeline per final cut of the spec (``output``, or each of ``outputs``)."""
    ws = Workspace.open(spec, cache_dir=cache_dir, namespace=namespace, allow=allow)
    suffix = FORMATS[fmt][0]
    project = ProjectPaths.for_spec(ws.spec, allowed=allow, cache=ws.cache.root)
    films = ws.outputs()
    for _, film in films:  # every destination checked before anything is measured or written
        folder = (out_dir if out_dir is not None else film.parent).resolve()
        _check_output(project, folder / f"{film.stem}{suffix}")
        if copy_media:
            _check_output(project, folder / f"{film.stem}.media" / "x")
    paths, sums = cached_assets(ws)
    return [
        _export_one(ws, out, film, paths, sums, fmt, out_dir=out_dir, copy_media=copy_media)
        for out, film in films
    ]


def _export_one(
    ws: Workspace,
    out: OutputSpec,
    film: Path,
    paths: Mapping[str, Path],
    sums: Mapping[str, str],
    fmt: Format,
    *,
    out_dir: Path | None,
    copy_media: bool,
) -> ExportResult:
    import opentimelineio as otio

    # OTIO finds these by entry point; importing them here names them as what `export` needs
    import otio_cmx3600_adapter  # noqa: F401
    import otio_fcpx_xml_adapter  # noqa: F401

    from vidspec.media.interchange import Interchange, finish_fcpxml, to_otio

    suffix, adapter = FORMATS[fmt]
    folder = (out_dir if out_dir is not None else film.parent).resolve()
    target = folder / f"{film.stem}{suffix}"
    media_dir = folder / f"{film.stem}.media"
    tl = build_timeline(
        ws.graph, paths, ws.keys, film, checksums=sums, out=out, loudness_cache=ws.cache.root / "loudness"
    )
    measured = measure(tl)
    places = plan_scenes(tl, [c.duration for c in measured.clips], measured.narrations)
    has_audio = [c.has_audio for c in measured.clips]
    ix = Interchange(
        tl,
        places,
        has_audio,
        tuple(tuple(audio_length(c.path) for c in s.sfx) for s in tl.scenes),
        audio_length(tl.music.path) if tl.music is not None else None,
        caption_cues(tl, places),
        plan_levels(tl, has_audio),
    )

    names = _media_names(tl)

    def locate(path: Path) -> str:
        if not copy_media:
            return path.resolve().as_uri()
        copy = media_dir / names[path]
        if fmt == "otio":  # relative: the timeline and its media folder move together
            return f"{media_dir.name}/{names[path]}"
        return copy.as_uri()

    timeline = to_otio(ix, ws.name, locate)
    if fmt == "edl":  # CMX 3600 carries one picture track; the writer also edits the track it is given
        timeline = timeline.deepcopy()
        for track in [t for t in timeline.tracks if t.kind != otio.schema.TrackKind.Video]:
            timeline.tracks.remove(track)
        text = otio.adapters.write_to_string(timeline, adapter, rate=tl.fps)
    elif fmt == "fcpxml":
        text = finish_fcpxml(otio.adapters.write_to_string(timeline, adapter), timeline)
    else:
        text = otio.adapters.write_to_string(timeline, adapter)

    try:
        folder.mkdir(parents=True, exist_ok=True)
        if copy_media:
            media_dir.mkdir(exist_ok=True)
            for path, name in names.items():
                dest = media_dir / name
                tmp = dest.with_name(f".{name}.tmp")
                shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
    except OSError as exc:
        raise WriteError(Path(exc.filename or folder), exc) from exc
    atomic_write_text(target, text if text.endswith("\n") else text + "\n")
    return ExportResult(
        target,
        fmt,
        total_frames(places),
        tl.fps,
        len(timeline.tracks),
        tuple(media_dir / n for n in names.values()) if copy_media else tuple(names),
        copy_media,
    )
