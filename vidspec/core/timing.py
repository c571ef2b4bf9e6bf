"""Scene length and transition overlaps: the one copy of the timing rules shared by validation, the asset
graph and both stitch engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidspec.core import catalog as cat
from vidspec.core.inputs import InputRef, MediaInspector, input_ref, is_file, video_row
from vidspec.core.mp4 import mp4_duration
from vidspec.core.project_root import ProjectPaths
from vidspec.core.resolve import DEFAULT_DURATION, ResolvedScene
from vidspec.core.spec import Narration, Project


def transition_share(kind: str, d: float) -> float:
    """How much of each neighbouring scene a transition takes: all of d for a crossfade, half for a fade
    (out of black and into it), none for a cut."""
    return d if kind == "crossfade" else d / 2 if kind == "fade" else 0.0


def crossfade_overlap(kind: str, d: float) -> float:
    """Seconds by which a transition makes the film shorter: only a crossfade overlaps two scenes."""
    return d if kind == "crossfade" else 0.0


def narration_parts(rs: ResolvedScene) -> tuple[str, str, str] | None:
    """(text, voice, model) of the scene's narration, if any."""
    n = rs.get("narration")
    if n is None:
        return None
    if isinstance(n, Narration):
        return n.text, n.voice or rs.get("voice"), n.model
    return n, rs.get("voice"), cat.DEFAULT_MODELS["speech"]


@dataclass
class Timing:
    """Scene lengths of one project, reading each input video's length once."""

    project: Project
    base: Path
    scenes: list[ResolvedScene] = field(default_factory=list)
    _durations: dict[Path, float | None] = field(default_factory=dict)
    # Validation's view of the inputs: where they may be (None: anywhere), and a look inside each one from
    # the media layer (None: magic bytes only; core decodes nothing).
    paths: ProjectPaths | None = None
    inspect: MediaInspector | None = None

    def may_read(self, ref: InputRef) -> bool:
        """A local regular file inside the project: never read a file outside it, not even its header."""
        if ref.path is None or not is_file(ref.path):
            return False
        return self.paths is None or self.paths.input_problem(ref.raw) is None

    def video_length(self, ref: InputRef) -> float | None:
        if ref.path is None or not self.may_read(ref):
            return None
        if ref.path not in self._durations:
            self._durations[ref.path] = mp4_duration(ref.path)
        return self._durations[ref.path]

    def scene_seconds(self, rs: ResolvedScene) -> float:
        """The scene's video length: its duration, its input video's length, or its footage's (trimmed)."""
        if rs.get("clip") is not None:
            trim = rs.get("trim")
            if trim is not None:
                return max(0.0, float(trim[1]) - float(trim[0]))
            return self.video_length(input_ref(rs.get("clip"), self.base)) or 0.0
        row = video_row(rs)
        duration = rs.get("duration")
        if row is not None and row.durations is None:
            src = "performance" if row.endpoint == "character_performance" else "video"
            raw = rs.get(src)
            if raw is not None:
                length = self.video_length(input_ref(raw, self.base))
                if length is not None:
                    return length
            return float(duration or 0)
        if duration is not None:
            return float(duration)
        if row is not None and row.durations is not None and DEFAULT_DURATION not in row.durations:
            return float(row.durations[0])
        return float(DEFAULT_DURATION)

    def overlap_after(self, index: int) -> float:
        """Seconds at the end of scene `index` that the next scene's crossfade covers."""
        if index + 1 >= len(self.scenes):
            return 0.0
        nxt = self.scenes[index + 1]
        return crossfade_overlap(nxt.get("transition"), float(nxt.get("transition_duration")))
