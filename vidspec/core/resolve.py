"""Scenes with `defaults` and built-in defaults applied, remembering where each value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidspec.core.diagnostics import PathT
from vidspec.core.spec import SCENE_FIELD_NAMES, SCENE_ONLY_FIELDS, Project

BUILTIN_DEFAULTS: dict[str, Any] = {
    "model": "gen4.5",
    "ratio": "1280:720",
    "transition": "cut",
    "transition_duration": 0.5,
    "fit": "cover",
    "fit_audio": "extend",
    "narration_offset": 0.0,
    "keep_audio": True,
    "audio": True,
    "image_position": "first",
    "voice": "Maya",
    "takes": 1,
}
DEFAULT_DURATION = 5


@dataclass(frozen=True)
class ResolvedScene:
    index: int
    id: str
    values: dict[str, Any]
    # field -> where its value was written (the scene, `defaults`), or None for a built-in default
    origins: dict[str, PathT | None] = field(default_factory=dict)

    @property
    def path(self) -> PathT:
        return ("scenes", self.index)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def where(self, name: str, *sub: str | int) -> PathT:
        """The spec path to point a diagnostic at for this field."""
        origin = self.origins.get(name)
        if origin is None:
            return self.path
        return (*origin, *sub)

    def explicit(self, name: str) -> bool:
        return self.origins.get(name) is not None


def resolve_scene(project: Project, index: int) -> ResolvedScene:
    scene = project.scenes[index]
    values: dict[str, Any] = {}
    origins: dict[str, PathT | None] = {}
    for name in SCENE_FIELD_NAMES:
        own = getattr(scene, name)
        if own is not None:
            values[name], origins[name] = own, ("scenes", index, name)
            continue
        default = getattr(project.defaults, name)
        if default is not None:
            values[name], origins[name] = default, ("defaults", name)
        elif name in BUILTIN_DEFAULTS:
            values[name], origins[name] = BUILTIN_DEFAULTS[name], None
        else:
            values[name], origins[name] = None, None
    for name in SCENE_ONLY_FIELDS:
        own = getattr(scene, name)
        values[name], origins[name] = own, ("scenes", index, name) if own is not None else None
    return ResolvedScene(index, scene.id, values, origins)


def resolve(project: Project) -> list[ResolvedScene]:
    return [resolve_scene(project, i) for i in range(len(project.scenes))]
