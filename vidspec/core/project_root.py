"""Where a spec's files may be: every input and output resolves inside the project root.

A spec from a pull request is untrusted input: `image: /home/me/.ssh/id.png`, `../../secret.png` or a symlink
that points out of the repository would be read and sent to the API, and `output.path: /etc/x.mp4` written.
The root is the enclosing git repository's top level (found by walking up for a `.git` entry, never by
running git), or the spec's folder outside git. Extra roots (`--allow-path`, VIDSPEC_ALLOW_PATHS) admit
shared inputs only; no output may land outside the root or inside the cache directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ALLOW_PATHS_ENV = "VIDSPEC_ALLOW_PATHS"
ALLOW_HINT = (
    "keep inputs inside the project (the git repository, or the spec's folder outside git); "
    f"for shared assets elsewhere, pass --allow-path DIR or set {ALLOW_PATHS_ENV}"
)


def find_root(start: Path) -> Path:
    """The top level of the git repository holding `start` (a `.git` directory, or the `.git` file of a
    worktree or submodule), else `start` itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return start


def _resolve(path: Path) -> Path | None:
    """Symlinks followed, `..` applied; None for a symlink loop or a name no file system takes (a NUL)."""
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError, ValueError):
        return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def output_files(output: Path, name: str) -> tuple[Path, ...]:
    """The final cut and every file a build or storyboard writes beside it: captions, the stitch manifest
    (media/stitch/manifest.sidecar_paths), the ledger and the storyboard."""
    folder = output.parent
    return (
        output,
        output.with_suffix(".srt"),
        output.with_suffix(".vtt"),
        output.with_name(output.name + ".manifest.json"),
        folder / f"{name}.ledger.json",
        folder / f"{name}.storyboard.png",
        folder / f"{name}.storyboard.html",
    )


def output_path(spec_dir: Path, path: str | None, name: str, *, preview: bool = False) -> Path:
    """Where the final cut goes: output.path relative to the spec's folder, or build/<name>.mp4; a preview
    build writes <stem>.preview<suffix> beside it."""
    out = spec_dir / path if path else spec_dir / "build" / f"{name}.mp4"
    return out.with_name(f"{out.stem}.preview{out.suffix}") if preview else out


def split_allowed(value: str | None) -> tuple[Path, ...]:
    """An os.pathsep-separated list of folders (VIDSPEC_ALLOW_PATHS); empty entries are skipped, never `.`."""
    return tuple(Path(p) for p in (value or "").split(os.pathsep) if p.strip())


@dataclass(frozen=True)
class ProjectPaths:
    root: Path
    allowed: tuple[Path, ...] = ()  # extra roots, for inputs only
    cache: Path | None = None  # the cache directory: no output may land in it
    base: Path = field(default_factory=Path)  # the spec's folder (relative paths start here)

    @classmethod
    def for_spec(
        cls,
        spec: Path,
        *,
        allowed: Iterable[Path | str] = (),
        cache: Path | str | None = None,
        root: Path | None = None,
    ) -> ProjectPaths:
        """`cache` None: the default `.vidspec` beside the spec; `root` None: found from the spec's folder (a
        snapshot of a git ref, outside any repository, names its own)."""
        base = Path(spec).resolve().parent
        roots = tuple(r for p in allowed if str(p).strip() and (r := _resolve(Path(p))) is not None)
        where = _resolve(Path(cache)) if cache else base / ".vidspec"
        return cls(root.resolve() if root is not None else find_root(base), roots, where, base)

    def input_problem(self, raw: str) -> str | None:
        """Why the local input `raw` may not be read, or None when it resolves inside the project (or an
        allowed folder). Decided before the file is opened or even looked at."""
        lexical = Path(os.path.normpath(self.base / raw))
        real = _resolve(lexical)
        if real is None:
            return "cannot be resolved (a symlink loop, or a character no file name takes)"
        if any(_inside(real, r) for r in (self.root, *self.allowed)):
            return None
        via = f" (it resolves to {real})" if real != lexical else ""
        return f"is outside the project {self.root}{via}"

    def output_problem(self, path: Path) -> tuple[str, str] | None:
        """(code, why) when the output file `path` may not be written there, else None."""
        real = _resolve(path)
        if real is None:
            return "VS309", "cannot be resolved (a symlink loop, or a character no file name takes)"
        via = f" (it resolves to {real})" if real != Path(os.path.normpath(path)) else ""
        if self.cache is not None and _inside(real, self.cache):
            return "VS310", f"is inside the cache directory {self.cache}{via}"
        if not _inside(real, self.root):
            return "VS309", f"is outside the project {self.root}{via}"
        return None
