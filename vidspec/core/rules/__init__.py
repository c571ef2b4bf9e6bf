"""Named catalogue rules, one module per kind. Each yields diagnostics for one resolved scene (or the
project); none stops early."""

from vidspec.core.rules.hints import did_you_mean
from vidspec.core.rules.project import check_project
from vidspec.core.rules.scene import check_scene

__all__ = ["check_project", "check_scene", "did_you_mean"]
