"""The film's timeline: what the stitcher needs to cut it (plain data, the same for every backend), and
`build_timeline`, which makes it from the graph and the cached outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vidspec.core.catalog import ratio_size
from vidspec.core.graph import Graph
from vidspec.core.keys import FileDigests
from vidspec.core.outputs import OutputSpec, project_outputs
from vidspec.core.spec import Fit, FitAudio, Loudness, Sfx, Transition
from vidspec.core.timing import narration_parts

Captions = Literal["sidecar", "burn"]
Engine = Literal["ffmpeg", "moviepy"]


@dataclass(frozen=True)
class SfxCue:
    path: Path
    at: float = 0.0  # seconds into the scene
    volume: float = 1.0


@dataclass(frozen=True)
class SceneCut:
    scene_id: str
    video: Path
    duration: float  # what the spec asked for; the clip's measured length wins at stitch time
    transition: Transition = "cut"  # into this scene from the previous one
    transition_duration: float = 0.5
    fit: Fit = "cover"
    narration: Path | None = None
    narration_text: str | None = None
    narration_offset: float = 0.0
    fit_audio: FitAudio = "extend"
    sfx: tuple[SfxCue, ...] = ()
    keep_audio: bool = True
    # cache keys of every input of this scene, for the stitch manifest
    keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Music:
    path: Path
    volume: float = 0.6
    fade_in: float = 1.0
    fade_out: float = 2.0
    duck: float | None = 0.35  # music gain under narration; None: no ducking
    key: str = ""


@dataclass(frozen=True)
class LoudnessTarget:
    """The final mix's EBU R128 targets (see vidspec.media.loudness)."""

    integrated: float = -16.0  # LUFS
    true_peak: float = -1.0  # dBTP, a ceiling
    # a fixed master gain (dB) instead of measuring the mix: renders a stem at the levels of a full mix
    master_gain_db: float | None = None


@dataclass(frozen=True)
class Timeline:
    scenes: tuple[SceneCut, ...]
    output: Path
    width: int
    height: int
    fps: int = 24
    music: Music | None = None
    captions: Captions = "sidecar"
    preset: str = "medium"
    crf: int = 20
    engine: Engine = "ffmpeg"
    # (path, sha256) of inputs that must still hold those bytes when the cut is made (the cached outputs)
    checksums: tuple[tuple[str, str], ...] = ()
    # where encoded segments are kept between stitches (a cache namespace); None: a private temp dir
    segments: Path | None = None
    # None: every sound at the level it was made (output.loudness: false)
    loudness: LoudnessTarget | None = LoudnessTarget()
    # where per-file loudness measurements are kept (None: measured again on every stitch)
    loudness_cache: Path | None = None


def output_ratio(graph: Graph) -> str:
    """The (first) output's frame."""
    return project_outputs(graph.project, graph.scenes, "")[0].ratio


def build_timeline(
    graph: Graph,
    paths: Mapping[str, Path],
    keys: Mapping[str, str],
    output: Path,
    *,
    preset: str | None = None,
    checksums: Mapping[str, str] | None = None,
    out: OutputSpec | None = None,
    segments: Path | None = None,
    loudness_cache: Path | None = None,
) -> Timeline:
    """`paths` maps asset names to their cached files; `checksums` their paths to the sha256 they hold.
    `out`: which of the spec's outputs (default the first): its frame, fit, captions, and each scene's clip
    for that frame (a ratio override's, when the scene has one)."""
    project = graph.project
    out = out if out is not None else project_outputs(project, graph.scenes, "")[0]
    w, h = ratio_size(out.ratio)
    cuts = []
    by_name = graph.by_name()
    for rs in graph.scenes:
        names: dict[str, str] = {a.kind: a.name for a in graph.for_scene(rs.id) if a.kind != "video"}
        names["video"] = graph.video_for(rs.id, out.ratio).name
        voice = names.get("dub") or names.get("narration")
        parts = narration_parts(rs)
        sfx_value = rs.get("sfx")
        cues: tuple[SfxCue, ...] = ()
        if "sfx" in names:
            sfx = sfx_value if isinstance(sfx_value, Sfx) else Sfx(prompt=str(sfx_value))
            cues = (SfxCue(paths[names["sfx"]], sfx.at, sfx.volume),)
        video = names["video"]
        cuts.append(SceneCut(
            scene_id=rs.id,
            video=paths[video],
            duration=float(by_name[video].seconds or 0),
            transition=rs.get("transition"),
            transition_duration=float(rs.get("transition_duration")),
            fit=out.fit_for(rs),
            narration=paths[voice] if voice else None,
            narration_text=parts[0] if parts else None,
            narration_offset=float(rs.get("narration_offset") or 0.0),
            fit_audio=rs.get("fit_audio"),
            sfx=cues,
            keep_audio=bool(rs.get("keep_audio")),
            keys={kind: keys[name] for kind, name in names.items()},
        ))  # fmt: skip
    music = None
    if project.music is not None:
        mpath = (graph.base / project.music.path).resolve()
        duck = project.music.duck
        gain = None if duck is False else 0.35 if duck is True else float(duck)
        music = Music(
            mpath,
            project.music.volume,
            project.music.fade_in,
            project.music.fade_out,
            gain,
            FileDigests()(mpath),
        )
    return Timeline(
        tuple(cuts),
        output,
        w,
        h,
        out.output.fps,
        music,
        out.output.captions,
        preset or out.output.preset,
        engine=out.output.engine,
        checksums=tuple(sorted((checksums or {}).items())),
        segments=segments,
        loudness=loudness_target(out.output.loudness),
        loudness_cache=loudness_cache,
    )


def loudness_target(value: Loudness | float | bool) -> LoudnessTarget | None:
    """``output.loudness`` as targets: an object, a number (integrated LUFS, default ceiling), or false."""
    if isinstance(value, Loudness):
        return LoudnessTarget(value.integrated, value.true_peak)
    if isinstance(value, bool):
        return LoudnessTarget() if value else None
    return LoudnessTarget(integrated=float(value))
