"""Input files: inside the project, regular files, format by content (and decoded, by the media layer's
inspector), size limits and the data-URI/upload threshold; data URIs: media type, base64, content, size."""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, PathT, error, warning
from vidspec.core.inputs import FORMATS, MediaKind, input_ref, media_kind_of
from vidspec.core.outputs import OutputSpec
from vidspec.core.project_root import ALLOW_HINT, ProjectPaths, output_files, output_path
from vidspec.core.rules.hints import suggest
from vidspec.core.timing import Timing


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # ENAMETOOLONG from a spec's 5,000-character path: no such file, not a crash
        return False


def check_file(
    raw: str, kinds: tuple[MediaKind, ...], path: PathT, ctx: Timing, what: str, *, upload: bool = True
) -> Iterator[Diagnostic]:
    """`upload` False: a file vidspec reads locally and never sends (footage): no API size limits."""
    ref = input_ref(raw, ctx.base)
    allowed = tuple(ext for k in kinds for ext in FORMATS[k])
    if ref.url is not None:
        if raw.startswith("data:"):
            yield from check_data_uri(raw, kinds, path, ctx, what)
            return
        if not raw.startswith("https://"):
            yield error(
                "VS304", f"{what} URL must use https: {raw}", path, "use an https:// URL or a local file"
            )
        return
    assert ref.path is not None
    # Before the file is looked at: a spec from a pull request may name any path on this machine.
    outside = ctx.paths.input_problem(raw) if ctx.paths is not None else None
    if outside is not None:
        fix = ALLOW_HINT if "outside the project" in outside else "fix or remove the symlink"
        yield error("VS308", f"{what} {raw} {outside}", path, fix)
        return
    if not _exists(ref.path):
        hint = None
        parent = ref.path.parent
        if _exists(parent) and parent.is_dir():
            names = [p.name for p in parent.iterdir() if p.suffix.lower() in allowed]
            close = suggest(ref.path.name, names)
            if close:
                hint = f"did you mean '{Path(raw).parent / close[0]}'?"
        yield error(
            "VS301",
            f"{what} file not found: {raw}",
            path,
            hint or "paths are relative to the spec file's folder",
        )
        return
    if ref.path.is_dir():
        yield error("VS301", f"{what} is a directory, not a file: {raw}", path)
        return
    try:
        st = os.stat(ref.path)
    except OSError as exc:
        yield error("VS301", f"{what} {raw} cannot be read: {exc.strerror}", path)
        return
    if not stat.S_ISREG(st.st_mode):  # opening a FIFO waits for a writer forever; a device never ends
        yield error("VS311", f"{what} {raw} is not a regular file ({_file_type(st.st_mode)})", path,
                    "an input must be a regular file (or a symlink to one)")  # fmt: skip
        return
    if ref.suffix not in allowed:
        yield error(
            "VS302",
            f"{what} format '{ref.suffix or '(none)'}' is not supported",
            path,
            f"use {', '.join(e.lstrip('.') for e in allowed)}",
        )
        return
    size = st.st_size
    actual = sniff(ref.path)
    if actual is not None and actual not in _SUFFIX_FAMILY.get(ref.suffix, (actual,)):
        found = "is not" if actual == "unknown" else f"holds {actual.upper()} data, not"
        yield error("VS302", f"{what} {raw} {found} {ref.suffix.lstrip('.').upper()}", path,
                    "re-export it, or rename it to match its content")  # fmt: skip
        return
    if upload and size > cat.UPLOAD_LIMIT:
        yield error("VS305", f"{what} is {size / 2**20:.0f} MB; uploads take at most 200 MB", path)
        return
    problem = _inspect(ctx, media_kind_of(ref, kinds[0]), ref.path)
    if problem is not None:
        yield error("VS314", f"{what} {raw} {problem}", path, "re-export it from an editor, or replace it")
        return
    if upload and not cat.fits_data_uri(size, cat.MIME_TYPES.get(ref.suffix, "application/octet-stream")):
        yield warning(
            "VS303",
            f"{what} is {size / 2**20:.1f} MB, too large for a 5 MB data URI once base64-encoded: "
            "it will go through an ephemeral upload",
            path,
            None,
        )


_SUFFIX_FAMILY = {".jpg": ("jpeg",), ".jpeg": ("jpeg",), ".png": ("png",), ".webp": ("webp",),
                  ".mp4": ("mp4",), ".mov": ("mp4",)}  # fmt: skip
# What a data URI's media type promises its bytes are; a type not here (audio) is not sniffed.
_MIME_FAMILY = {"image/jpeg": ("jpeg",), "image/png": ("png",), "image/webp": ("webp",),
                "video/mp4": ("mp4",), "video/quicktime": ("mp4",)}  # fmt: skip
_DATA_URI = re.compile(r"data:([^,]*),(.*)", re.S)


def check_outputs(outputs: Sequence[OutputSpec], name: str, paths: ProjectPaths) -> Iterator[Diagnostic]:
    """The final cut of either backend and every file written beside it resolve inside the project, and
    outside the cache directory: the first one that does not is the error. Two outputs never share a file."""
    written: dict[Path, OutputSpec] = {}
    for spec in outputs:
        clash = _shared_file(spec, name, paths, written)
        if clash is not None:
            other, file = clash
            yield error("VS110", f"{other.label} and {spec.label} would both write "
                        f"{os.path.relpath(file, paths.base)}", spec.where("path"),
                        "give each output its own `path` (its captions and manifest go beside it)")  # fmt: skip
        problem = _output_problem(spec, name, paths, False) or _output_problem(spec, name, paths, True)
        if problem is not None:
            yield problem


def _shared_file(
    spec: OutputSpec, name: str, paths: ProjectPaths, written: dict[Path, OutputSpec]
) -> tuple[OutputSpec, Path] | None:
    """An earlier output that writes one of this output's own files (the cut and its sidecars; the ledger
    and the storyboard are the project's, one each), and that file."""
    for preview in (False, True):
        out = output_path(paths.base, spec.path, name, preview=preview)
        for file in output_files(out, name)[:4]:
            other = written.setdefault(Path(os.path.normpath(file)), spec)
            if other is not spec:
                return other, file
    return None


def _output_problem(spec: OutputSpec, name: str, paths: ProjectPaths, preview: bool) -> Diagnostic | None:
    where = spec.where("path")
    out = output_path(paths.base, spec.path, name, preview=preview)
    for file in output_files(out, name):
        problem = paths.output_problem(file)
        if problem is None:
            continue
        code, why = problem
        what = "the output" if file == out else "the output's sidecar"
        fix = (
            "the cache directory holds cached assets only"
            if code == "VS310"
            else "keep outputs in the project"
        )
        field = "output.path" if spec.index is None else f"outputs[{spec.index}].path"
        return error(code, f"{what} {os.path.normpath(file)} {why}", where,
                     f"{fix}; for example {field}: build/{name}.mp4")  # fmt: skip
    return None


def _file_type(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a file")


def _inspect(ctx: Timing, kind: MediaKind, source: Path | bytes) -> str | None:
    """The media layer's look inside an image or a video, when validation was given one."""
    if ctx.inspect is None or kind not in ("image", "video"):
        return None
    return ctx.inspect(kind, source)


def _mime_list(mimes: set[str]) -> str:
    return ", ".join(sorted(mimes))


def check_data_uri(
    raw: str, kinds: tuple[MediaKind, ...], path: PathT, ctx: Timing, what: str
) -> Iterator[Diagnostic]:
    """A data URI is sent as written: check it as the API and the model would see it."""
    mimes = {cat.MIME_TYPES[ext] for k in kinds for ext in FORMATS[k] if ext in cat.MIME_TYPES}
    form = "write data:<media type>;base64,<base64 data>"
    if len(raw) > cat.DATA_URI_LIMIT:
        yield error("VS305", f"{what} data URI is {len(raw) / 2**20:.1f} MB; the API takes data URIs of at most "
                    f"{cat.DATA_URI_LIMIT / 2**20:g} MB", path, "use a local file instead: vidspec uploads it")  # fmt: skip
        return
    m = _DATA_URI.fullmatch(raw)
    params = [p.strip().lower() for p in m.group(1).split(";")] if m else []
    if m is None or "base64" not in params[1:]:
        yield error("VS312", f"{what} data URI is not base64-encoded", path, form)
        return
    mime = params[0]
    if not mime:
        yield error("VS312", f"{what} data URI has no media type", path, f"{form}; here: {_mime_list(mimes)}")
        return
    if mime not in mimes:
        yield error("VS313", f"{what} data URI has media type {mime}; {what} takes {_mime_list(mimes)}", path,
                    "use a file of the right kind")  # fmt: skip
        return
    try:
        data = base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError) as exc:
        yield error("VS312", f"{what} data URI is not valid base64 ({exc})", path, form)
        return
    if not data:
        yield error("VS312", f"{what} data URI is empty", path, form)
        return
    family = _MIME_FAMILY.get(mime)
    actual = sniff_bytes(data[:12])
    if family is not None and actual not in family:
        found = f"holds {actual.upper()} data" if actual else f"its content is not {family[0].upper()}"
        yield error("VS313", f"{what} data URI says {mime}, but {found}", path,
                    "encode the file itself, with its own media type")  # fmt: skip
        return
    kind: MediaKind = (
        "image" if mime.startswith("image/") else "video" if mime.startswith("video/") else "audio"
    )
    problem = _inspect(ctx, kind, data)
    if problem is not None:
        yield error("VS314", f"{what} data URI {problem}", path, "re-export it from an editor, or replace it")


def sniff_bytes(head: bytes) -> str | None:
    """What the first 12 bytes say the content is (images and ISO media only); None when unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    return None


def _read_head(path: Path, n: int) -> bytes:
    """The first n bytes; never blocks (O_NONBLOCK: a FIFO swapped in after the stat reads as empty)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, n)
    finally:
        os.close(fd)


def sniff(path: Path) -> str | None:
    """What the first bytes say the file is (images and ISO media only); None when unknown."""
    try:
        head = _read_head(path, 12)
    except OSError:
        return None
    found = sniff_bytes(head)
    if found is None and len(head) >= 12 and Path(path).suffix.lower() in _SUFFIX_FAMILY:
        return "unknown"
    return found
