"""Diagnostics are values: validation collects them, views render them, the CLI maps them to exit codes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

Severity = Literal["error", "warning"]
PathT = tuple[str | int, ...]

# Stable codes. Never renumber; retire a code by leaving its number unused.
CODES: dict[str, str] = {
    "VS001": "the spec file cannot be read (missing, a directory, or not text)",
    "VS002": "the spec is not well-formed YAML or JSON",
    "VS003": "the spec file is empty",
    "VS004": "the top level of the spec is not a mapping",
    "VS005": "a key appears twice in the same mapping",
    "VS006": "a string holds a control character (written with an escape such as \\0)",
    "VS101": "unknown key",
    "VS102": "a value has the wrong type",
    "VS103": "a required field is missing",
    "VS104": "a value is not one of the allowed choices",
    "VS105": "a number is out of its allowed range",
    "VS106": "two scenes share an id",
    "VS107": "a scene id is not of the form [a-z0-9][a-z0-9_-]*",
    "VS108": "the spec has no scenes",
    "VS109": "both `output` and `outputs` are set",
    "VS110": "two outputs would write the same file",
    "VS111": "a ratio override names a frame no output has",
    "VS201": "unknown model",
    "VS202": "the model cannot take the scene's inputs",
    "VS203": "an input the model needs is missing",
    "VS204": "the ratio is not supported by the model and endpoint",
    "VS205": "the duration is not supported by the model",
    "VS206": "promptText is longer than 1000 UTF-16 code units",
    "VS207": "the model is used in a slot of the wrong kind",
    "VS208": "the model is retired from creation and may be refused",
    "VS209": "a field is not supported by the model",
    "VS210": "the model's price is not confirmed, so the plan is an estimate",
    "VS301": "a referenced file does not exist",
    "VS302": "a referenced file has an unsupported format",
    "VS303": "a file over 5 MB will go through an ephemeral upload",
    "VS304": "a URL input must use https",
    "VS305": "a file is over the API's size limit",
    "VS306": "the length of an input video cannot be read",
    "VS307": "an input video's length is outside what the model accepts",
    "VS308": "an input resolves outside the project (an absolute path, `..` or a symlink)",
    "VS309": "an output would be written outside the project",
    "VS310": "an output would be written inside the cache directory",
    "VS311": "an input is not a regular file (a FIFO, a device or a socket)",
    "VS312": "a data URI is malformed (not base64, no media type, or empty)",
    "VS313": "a data URI's media type or content does not fit its slot",
    "VS314": "an input does not decode (a damaged image, or a video without a video stream)",
    "VS315": "a field that generates a clip is set on a footage scene (`clip`)",
    "VS316": "`trim` is not [start, end] with start before end, or is set without `clip`",
    "VS317": "`trim` runs past the end of the footage",
    "VS318": "footage must be a local file",
    "VS401": "a reference image tag is invalid",
    "VS402": "too many reference images",
    "VS403": "the prompt refers to an @tag that no reference image defines",
    "VS501": "unknown voice preset",
    "VS502": "the sound effect duration is out of range",
    "VS503": "unsupported dubbing language",
    "VS601": "the build would cost more than the budget",
    "VS602": "the narration will likely run longer than the scene",
    "VS603": "the transition is longer than a neighbouring scene",
    "VS604": "the sound effect starts after the scene ends",
    "VS701": "the prompt uses negative phrasing",
    "VS702": "the prompt seems to describe more than one scene",
    "VS801": "a reference frame comes from a scene that does not exist (or `previous` on the first scene)",
    "VS802": "a scene takes its reference frame from its own clip",
    "VS803": "reference frames taken from other scenes' clips form a cycle",
    "VS804": "a reference frame's time is not inside the source scene's clip",
}


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    hint: str | None = None
    path: PathT = ()
    file: str | None = None
    line: int | None = None
    column: int | None = None
    # The text of that line, for the caret under the column in the text output (not part of the JSON).
    source_line: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def path_str(self) -> str:
        return format_path(self.path)

    def located(
        self, file: str | None, line: int | None, column: int | None, source_line: str | None = None
    ) -> Diagnostic:
        return replace(self, file=file, line=line, column=column, source_line=source_line)

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path_str,
        }


def error(code: str, message: str, path: PathT = (), hint: str | None = None) -> Diagnostic:
    return Diagnostic("error", code, message, hint, path)


def warning(code: str, message: str, path: PathT = (), hint: str | None = None) -> Diagnostic:
    return Diagnostic("warning", code, message, hint, path)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class Diagnostics:
    """An ordered collection; `has_errors` decides the exit code."""

    def __init__(self, items: Iterable[Diagnostic] = ()) -> None:
        self._items: list[Diagnostic] = list(items)

    def add(self, diag: Diagnostic) -> None:
        self._items.append(diag)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self._items.extend(diags)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self._items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self._items if d.severity == "warning"]

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self._items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self._items, key=lambda d: (d.line or 0, d.column or 0, d.code))
