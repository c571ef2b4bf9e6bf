"""The final cuts a spec asks for: `output:` (one) or `outputs:` (several), each resolved to its frame size,
its path and the spec path its fields were written at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vidspec.core.diagnostics import PathT
from vidspec.core.inputs import video_row
from vidspec.core.resolve import ResolvedScene
from vidspec.core.spec import Fit, Output, Project

FALLBACK_RATIO = "1280:720"


@dataclass(frozen=True)
class OutputSpec:
    """One final cut. `index` is None for `output:`, k for `outputs[k]`."""

    output: Output
    ratio: str  # W:H of the frame: the output's own ratio, or the first generated scene's
    path: str | None  # relative to the spec's folder; None: build/<name>.mp4
    index: int | None = None

    def where(self, *field: str | int) -> PathT:
        base: PathT = ("output",) if self.index is None else ("outputs", self.index)
        return (*base, *field)

    def fit_for(self, rs: ResolvedScene) -> Fit:
        """A scene's own `fit` wins; then this output's; then `defaults.fit`; then cover."""
        if self.output.fit is not None and rs.origins.get("fit") != ("scenes", rs.index, "fit"):
            return self.output.fit
        fit: Fit = rs.get("fit")
        return fit

    @property
    def label(self) -> str:
        return f"output ({self.ratio})" if self.index is None else f"outputs[{self.index}] ({self.ratio})"


def default_ratio(scenes: Sequence[ResolvedScene]) -> str:
    """The first generated scene's ratio (a footage scene or a model that keeps its input's size has none)."""
    for rs in scenes:
        if rs.get("clip") is not None:
            continue
        row = video_row(rs)
        if row is not None and row.ratios and rs.get("ratio"):
            return str(rs.get("ratio"))
    return FALLBACK_RATIO


def _size_tag(ratio: str) -> str:
    return ratio.replace(":", "x")


def project_outputs(project: Project, scenes: Sequence[ResolvedScene], name: str) -> list[OutputSpec]:
    """Every final cut, in the spec's order. Several outputs without a path go to build/<name>-<W>x<H>.mp4."""
    fallback = default_ratio(scenes)
    if project.outputs is None:
        out = project.output
        return [OutputSpec(out, out.ratio or fallback, out.path)]
    found = []
    several = len(project.outputs) > 1
    for k, out in enumerate(project.outputs):
        ratio = out.ratio or fallback
        path = out.path
        if path is None and several:
            path = f"build/{name}-{_size_tag(ratio)}.mp4"
        found.append(OutputSpec(out, ratio, path, k))
    return found
