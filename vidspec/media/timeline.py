"""What the stitcher needs to cut a film: plain data, the same for every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Transition = Literal["cut", "crossfade", "fade"]
Fit = Literal["cover", "contain", "stretch"]
FitAudio = Literal["extend", "trim", "error"]
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
