"""A spec and its input files as they are at a git ref, copied into a temporary folder (the `git` command).

Only what the spec names is copied: the spec itself, its lockfile, then every string in it that is the path
of a file in the ref's tree (relative to the spec, inside the repository). Blobs go through `git cat-file --filters`, so a
file reads as a checkout would write it (Git LFS, line endings) and compares with the working tree by bytes.
Files outside the repository are not versioned: they are read as they are now (an absolute path as written; a
relative one through a link at the same place beside the copy, so --allow-path applies to both sides alike).
Not a git repository, an unknown ref, or git failing: a VidspecError (exit 1) with git's reason.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidspec.core.inputs import is_url
from vidspec.core.source import load_text
from vidspec.errors import VidspecError
from vidspec.media.probe import run_child

MAX_PATH_CHARS = 4096  # longer strings in a spec are prompts, not file names
OUTSIDE_DEPTH = 8  # how far above the repository a relative name may reach (`../` each) and still be linked
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class SpecAtRef:
    ref: str  # as the user wrote it
    commit: str  # the full hash it names
    path: str  # the spec's path in the repository (posix)
    root: Path  # the temporary copy of the repository's top level
    spec: Path | None  # the spec inside `root`; None when the spec does not exist at the ref

    @property
    def short(self) -> str:
        return self.commit[:12]


def _env() -> dict[str, str]:
    """git never asks for a password, and speaks English (its reasons are quoted to the user)."""
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def _git(cwd: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess[Any]:
    try:
        return run_child(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=not binary,
            env=_env(),
            check=False,
            timeout=120,
        )
    except FileNotFoundError:
        raise VidspecError("--diff needs git, and the `git` command was not found") from None
    except subprocess.TimeoutExpired:
        raise VidspecError(f"git {args[0]} did not answer within 120 s") from None


def _reason(proc: subprocess.CompletedProcess[Any]) -> str:
    err = proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) else proc.stderr
    lines = [line.removeprefix("fatal: ").strip() for line in err.splitlines() if line.strip()]
    return lines[0] if lines else f"git exited with {proc.returncode}"


def repository_of(spec: Path) -> Path:
    folder = spec.resolve().parent
    proc = _git(folder, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise VidspecError(f"--diff: {spec} is not inside a git repository ({_reason(proc)})")
    return Path(proc.stdout.strip()).resolve()


def resolve_ref(top: Path, ref: str) -> str:
    """The commit a ref names (a branch, a tag, HEAD~1, origin/main, a hash)."""
    if not ref.strip():
        raise VidspecError("--diff: the git ref is empty")
    proc = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if proc.returncode != 0 or not proc.stdout.strip():
        raise VidspecError(
            f"--diff: unknown git ref {ref!r} in {top} (a branch, tag, commit or HEAD~N; "
            "in a shallow clone, fetch it first, e.g. `git fetch origin main`)"
        )
    return str(proc.stdout.strip())


def _tree(top: Path, commit: str) -> dict[str, str]:
    """Every blob of the commit: repository path -> mode."""
    proc = _git(top, "ls-tree", "-r", "-z", "--full-tree", commit, binary=True)
    if proc.returncode != 0:
        raise VidspecError(f"--diff: cannot list {commit[:12]} ({_reason(proc)})")
    blobs: dict[str, str] = {}
    for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if "\t" not in entry:
            continue
        meta, path = entry.split("\t", 1)
        mode, kind, _ = meta.split(" ", 2)
        if kind == "blob":
            blobs[path] = mode
    return blobs


def _copy(top: Path, commit: str, path: str, dest: Path) -> None:
    target = dest.joinpath(*path.split("/"))
    if ".." in path.split("/") or dest not in target.parents:  # git refuses such trees; never trust it here
        raise VidspecError(f"--diff: {path!r} at {commit[:12]} is not a path inside the repository")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        try:
            proc = run_child(
                ["git", "cat-file", "--filters", f"{commit}:{path}"],
                cwd=top,
                stdout=out,
                stderr=subprocess.PIPE,
                env=_env(),
                check=False,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            raise VidspecError(f"--diff: git took too long to read {path} at {commit[:12]}") from None
    if proc.returncode != 0:
        raise VidspecError(f"--diff: cannot read {path} at {commit[:12]} ({_reason(proc)})")


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _relative_names(data: Any, spec_dir: str) -> Iterator[str]:
    """Each string of a parsed spec that could be a relative file name, as a path from the repository's top
    (normalised: `../` first when it leads out of the repository)."""
    for text in _strings(data):
        if len(text) > MAX_PATH_CHARS or not text.strip() or is_url(text) or os.path.isabs(text):
            continue
        yield posixpath.normpath(posixpath.join(spec_dir, text.replace("\\", "/")))


def _outside(path: str) -> bool:
    return path == ".." or path.startswith("../")


def named_files(data: Any, spec_dir: str, blobs: dict[str, str]) -> list[str]:
    """The repository paths of the files a parsed spec names (relative to its folder ``spec_dir``)."""
    found = {
        p
        for p in _relative_names(data, spec_dir)
        if not _outside(p) and blobs.get(p) not in (None, SYMLINK_MODE)
    }
    return sorted(found)


def _link_outside(data: Any, spec_dir: str, top: Path, root: Path) -> None:
    """A link beside the copy for each file the spec names outside the repository, to the file as it is now."""
    for path in sorted({p for p in _relative_names(data, spec_dir) if _outside(p)}):
        real = Path(os.path.normpath(top / path))
        link = Path(os.path.normpath(root / path))
        if path.split("/").count("..") > OUTSIDE_DEPTH or not real.is_file() or link.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(real)


@contextmanager
def spec_at_ref(spec: Path, ref: str) -> Iterator[SpecAtRef]:
    """The spec and the files it names as they were at ``ref``, in a temporary folder removed afterwards."""
    top = repository_of(spec)
    commit = resolve_ref(top, ref)
    try:
        rel = spec.resolve().relative_to(top).as_posix()
    except ValueError:
        raise VidspecError(f"--diff: {spec} is outside the repository {top}") from None
    blobs = _tree(top, commit)
    with tempfile.TemporaryDirectory(prefix="vidspec-ref-") as tmp:
        root = Path(tmp).resolve().joinpath(*["up"] * OUTSIDE_DEPTH, "repo")
        root.mkdir(parents=True)
        if blobs.get(rel) in (None, SYMLINK_MODE):
            yield SpecAtRef(ref, commit, rel, root, None)
            return
        _copy(top, commit, rel, root)
        copy = root.joinpath(*rel.split("/"))
        src, _ = load_text(copy.read_text("utf-8", "replace"), str(copy), is_json=copy.suffix == ".json")
        # The lockfile at the ref too: the seeds of the takes it records are part of what the ref builds.
        lockfile = posixpath.join(posixpath.dirname(rel), Path(rel).stem + ".lock.json")
        extra = [lockfile] if blobs.get(lockfile) not in (None, SYMLINK_MODE) else []
        for path in [*named_files(src.data, posixpath.dirname(rel), blobs), *extra]:
            if path != rel:
                _copy(top, commit, path, root)
        _link_outside(src.data, posixpath.dirname(rel), top, root)
        yield SpecAtRef(ref, commit, rel, root, copy)
