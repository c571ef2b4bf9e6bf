"""Spec bytes -> plain data plus the source position of every key and value.

PyYAML's C loader composes node trees with positions ten times faster than a ruamel.yaml
load (bench/plan_large.py), so it is the parser; ruamel.yaml stays the benchmark's yardstick.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidspec.core.diagnostics import Diagnostic, Diagnostics, PathT, error

try:
    from yaml import CSafeLoader as _Base

    _READER_BYTES = True  # libyaml reports a bad character by its offset in the UTF-8 bytes
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

    _READER_BYTES = False

Pos = tuple[int, int]
MAX_NODES = 500_000  # an alias bomb expands exponentially; a real spec of 1,000 scenes has ~15,000 nodes
MAX_DEPTH = 200  # a real spec nests about 6 deep
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as a line break


def line_col(text: str, index: int) -> Pos:
    """The 1-based line and column of a character index, with lines broken as YAML breaks them."""
    line, start = 1, 0
    for m in _BREAK.finditer(text, 0, index):
        line, start = line + 1, m.end()
    return line, index - start + 1


class _Loader(_Base):
    """YAML 1.2 core scalars, as ruamel.yaml reads them: `010` is 10, `1:30` a string, `no` a string.

    PyYAML's YAML 1.1 rules would silently turn `seed: 010` into 8 and `language: no` into False."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, Any]]] = {}

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:  # a constructor's own (`2024-13-45`): place it
            raise _BadValue(None, None, str(exc), node.start_mark) from None


class _BadValue(yaml.MarkedYAMLError):
    pass


for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    _Loader.yaml_implicit_resolvers[_first] = [
        (tag, rx) for tag, rx in _resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]  # fmt: skip
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


def decimal_int(text: str) -> int:
    """A decimal integer of any length. Python refuses to convert more than 4300 digits (a ValueError);
    such a number is only ever reported as out of range, so one with as many digits stands in for it."""
    digits = text.lstrip("+-").lstrip("0")
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)() or 1_000_000
    if len(digits) < limit:
        return int(text, 10)
    return int((-1 if text.startswith("-") else 1) * 10 ** (min(len(digits), 100_000) - 1))


def _int12(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return decimal_int(text)


def _bool12(loader: Any, node: yaml.ScalarNode) -> bool:
    return str(node.value).lower() == "true"


_Loader.add_constructor("tag:yaml.org,2002:int", _int12)
_Loader.add_constructor("tag:yaml.org,2002:bool", _bool12)


@dataclass
class Source:
    file: str
    data: Any = None
    values: dict[PathT, Pos] = field(default_factory=dict)
    keys: dict[PathT, Pos] = field(default_factory=dict)
    text: str = ""
    _lines: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    def line_text(self, line: int) -> str | None:
        if self._lines is None:
            self._lines = _BREAK.split(self.text)
        return self._lines[line - 1] if 0 < line <= len(self._lines) else None

    def at(self, diag: Diagnostic, line: int, column: int) -> Diagnostic:
        """The diagnostic at (line, column) of this file, with that line's text for the caret."""
        return diag.located(self.file, line, column, self.line_text(line))

    def position(self, path: PathT, *, key: bool = False) -> Pos | None:
        """The value's position, or the key's; falls back to the nearest ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        p = tuple(path)
        while True:
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def locate(self, diag: Diagnostic, *, key: bool = False) -> Diagnostic:
        pos = self.position(diag.path, key=key)
        if pos is None and self.text.strip():
            pos = (1, 1)  # no positions (JSON the YAML composer refused): the document itself
        if pos is None:
            return diag.located(self.file, None, None)
        return self.at(diag, *pos)


class _TooBig(Exception):
    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.pos = (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(
    node: yaml.Node, path: PathT, src: Source, diags: Diagnostics, active: set[int], count: list[int]
) -> None:
    if id(node) in active:
        raise _TooBig("an alias refers to a node that contains it (a recursive document)", node)
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _TooBig(f"the document expands to more than {MAX_NODES:,} values (nested aliases?)", node)
    if len(path) > MAX_DEPTH:
        raise _TooBig(f"nested more than {MAX_DEPTH} levels deep", node)
    src.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        active.add(id(node))
        seen: set[Any] = set()
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else str(knode.value)
            child = (*path, key)
            kpos = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            if key in seen:
                d = error("VS005", f"key '{key}' appears twice in the same mapping", child,
                          "only the last value would be kept; remove one")  # fmt: skip
                diags.add(d.located(src.file, *kpos))
            seen.add(key)
            src.keys[child] = kpos
            _walk(vnode, child, src, diags, active, count)
        active.discard(id(node))
    elif isinstance(node, yaml.SequenceNode):
        active.add(id(node))
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), src, diags, active, count)
        active.discard(id(node))


def _positions(node: yaml.Node, src: Source, diags: Diagnostics) -> Diagnostic | None:
    """Fill src with positions; a recursive, exploding or too deep document gives one VS002 instead."""
    try:
        _walk(node, (), src, diags, set(), [0])
    except _TooBig as exc:
        return src.at(error("VS002", f"invalid document: {exc}"), *exc.pos)
    return None


def _pos(mark: Any) -> Pos:
    return mark.line + 1, mark.column + 1


_KEY = re.compile(r"""((?:-[ \t]+)*)("[^"]*"|'[^']*'|[^\s#'"\[\]{},:-][^#]*?|-[^\s#]*?):(?:[ \t]|$)""")


@dataclass
class _Shape:
    """One line of block YAML, as far as indentation goes."""

    indent: int  # column of its first character
    dash: bool  # a list item
    key: str | None  # the first key on it, if any
    key_col: int  # column of that key (after any `- `), else of the first character
    value_col: int | None  # column of the value after the key, when it is on the same line


def _shape(text: str) -> _Shape | None:
    body = text.lstrip(" ")
    if not body or body.startswith("#"):
        return None
    indent = len(text) - len(body) + 1
    dash = body == "-" or body.startswith(("- ", "-\t"))
    m = _KEY.match(body)
    if m is None:
        return _Shape(indent, dash, None, indent + (len(body) - len(body[1:].lstrip()) if dash else 0), None)
    key_col = indent + len(m.group(1))
    rest = body[m.end() :]
    value_col = indent + m.end() + (len(rest) - len(rest.lstrip())) if rest.strip() else None
    if rest.lstrip().startswith("#"):
        value_col = None
    return _Shape(indent, dash, m.group(2).strip("\"'"), key_col, value_col)


def _above(src: Source, line: int, want_dash: bool) -> tuple[int, _Shape] | None:
    """The nearest line above that a misindented line should line up with: a list item for a list item,
    else a key (skipping blank lines, comments and the lines of a block scalar)."""
    for n in range(line - 1, 0, -1):
        shape = _shape(src.line_text(n) or "")
        if shape is not None and (shape.dash if want_dash else shape.key is not None):
            return n, shape
    return None


def _indentation(exc: yaml.MarkedYAMLError, src: Source) -> Diagnostic | None:
    """A misindented line, at the line to fix, with a plain hint; None when it is something else."""
    mark, problem = exc.problem_mark, exc.problem or ""
    if mark is None:
        return None
    line, col = _pos(mark)
    shape = _shape(src.line_text(line) or "")
    if shape is None:
        return None
    if isinstance(exc, yaml.scanner.ScannerError) and problem.startswith("mapping values are not allowed"):
        # The key's own colon: YAML read the line as more of the value above it, so it is indented more.
        # A later colon: a plain value holding ': '.
        if shape.key is None or col != shape.key_col + len(shape.key):
            if shape.value_col is None or col <= shape.value_col:
                return None
            example = f'{shape.key}: "{(src.line_text(line) or "")[shape.value_col - 1 :].strip()}"'
            return src.at(
                error("VS002", "invalid YAML: a plain value cannot hold ': '", (),
                      f"put the value in quotes: {example[:60]}"),
                line, shape.value_col,
            )  # fmt: skip
    elif not (
        isinstance(exc, yaml.parser.ParserError)
        and (exc.context or "").startswith("while parsing a block")
        and (
            problem.startswith(
                ("did not find expected key", "did not find expected '-'", "expected <block end>")
            )
        )
        and col == shape.indent
    ):
        return None
    found = _above(src, line, shape.dash) or (_above(src, line, False) if shape.dash else None)
    if found is None:
        return None
    ref_line, ref = found
    ref_col = ref.indent if shape.dash and ref.dash else ref.key_col
    if shape.indent == ref_col:
        return None
    how = "more" if shape.indent > ref_col else "less"
    if shape.dash:
        what = "list item" if ref.dash else "line"
        hint = (f"this {what} is indented {how} than the " + ("item" if ref.dash else "key") + f" above it "
                f"(column {shape.indent}; line {ref_line} starts at column {ref_col}): "
                "line it up with the list it belongs to")  # fmt: skip
    elif shape.key is not None:
        hint = (f"this key is indented {how} than the keys above it (`{shape.key}` at column {shape.indent}, "
                f"`{ref.key}` on line {ref_line} at column {ref_col}): line it up with the keys it belongs with")  # fmt: skip
    else:
        hint = (f"this line is indented {how} than the key above it (column {shape.indent}; `{ref.key}` on "
                f"line {ref_line} at column {ref_col})")  # fmt: skip
    return src.at(error("VS002", "invalid YAML: bad indentation", (), hint), line, shape.indent)


_HINTS = {
    "while scanning a quoted scalar": "the quoted string that starts here is never closed: add the closing quote",
    "while scanning a simple key": "write `key: value`, with a space after the colon",
}


def _at_end(src: Source, mark: Any) -> bool:
    return _pos(mark) >= line_col(src.text, len(src.text.rstrip()))


def _syntax_error(exc: yaml.MarkedYAMLError, src: Source) -> Diagnostic:
    """PyYAML's error, at the line the user must fix."""
    if isinstance(exc, _BadValue):
        return src.at(error("VS002", f"invalid YAML value: {exc.problem}"), *_pos(exc.problem_mark))
    problem, context = exc.problem_mark, exc.context_mark
    if problem is not None:
        pline, pcol = _pos(problem)
        if (src.line_text(pline) or "")[pcol - 1 : pcol] == "\t":
            tab = "YAML indents with spaces only; replace the tab with spaces"
            return src.at(
                error("VS002", "invalid YAML: a tab character where YAML needs spaces", (), tab), pline, pcol
            )
    found = _indentation(exc, src)
    if found is not None:
        return found
    what = ", ".join(x for x in (exc.context, exc.problem) if x) or "syntax error"
    mark = problem or context
    hint: str | None = _HINTS.get(exc.context or "")
    ctx = exc.context or ""
    if context is not None and problem is not None:
        if ctx.startswith("while parsing a flow") and problem.line > context.line:
            opener = (src.line_text(context.line + 1) or "")[context.column : context.column + 1] or "["
            closer = {"[": "]", "{": "}"}.get(opener, "")
            hint = f"this {opener} is not closed on its line: add the {closer}, or a comma between items"
            mark = context
        elif ctx.startswith("while scanning") or _at_end(src, problem):
            mark = context  # where the broken construct starts (an unclosed quote), not the end of the file
    if mark is None:
        return src.at(error("VS002", f"invalid YAML: {what}"), 1, 1)
    return src.at(error("VS002", f"invalid YAML: {what}", (), hint), *_pos(mark))


def _reader_error(exc: yaml.reader.ReaderError, src: Source) -> Diagnostic:
    """A character YAML does not allow (a control character), at its line and column."""
    index = exc.position
    if _READER_BYTES:
        index = len(src.text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "ignore"))
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    kind = "control character" if code < 0x20 or 0x7F <= code <= 0x9F else "character"
    escape = f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    hint = f'remove it; to put it in a string, write the escape "{escape}" inside double quotes'
    return src.at(
        error("VS002", f"invalid YAML: {kind} U+{code:04X} is not allowed", (), hint),
        *line_col(src.text, index),
    )


def _too_deep(src: Source, what: str) -> Diagnostic:
    """Where a document nests too deeply for the parser, found with libyaml's event stream (no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(src.text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return src.at(error("VS002", f"{what}: nested too deeply"), *_pos(event.start_mark))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if exc.problem_mark is not None:
            return src.at(error("VS002", f"{what}: nested too deeply"), *_pos(exc.problem_mark))
    except (yaml.YAMLError, ValueError):
        pass
    return src.at(error("VS002", f"{what}: nested too deeply"), 1, 1)


def _json_error(exc: json.JSONDecodeError, src: Source) -> Diagnostic:
    line, col = line_col(src.text, exc.pos)
    if exc.msg.startswith("Invalid control character") and exc.pos < len(src.text):
        code = ord(src.text[exc.pos])
        return src.at(
            error("VS002", f"invalid JSON: control character U+{code:04X} inside a string", (),
                  f'write it as the escape "\\u{code:04x}"'),
            line, col,
        )  # fmt: skip
    return src.at(error("VS002", f"invalid JSON: {exc.msg}"), line, col)


def load_text(text: str, file: str, *, is_json: bool = False) -> tuple[Source, Diagnostics]:
    src = Source(file, text=text)
    diags = Diagnostics()
    if not text.strip():
        diags.add(error("VS003", "the file is empty", (), "start from `vidspec init`").located(file, 1, 1))
        return src, diags
    if is_json:
        try:
            src.data = json.loads(text, parse_int=decimal_int)
        except json.JSONDecodeError as exc:
            diags.add(_json_error(exc, src))
            return src, diags
        except RecursionError:
            diags.add(_too_deep(src, "invalid JSON"))
            return src, diags
        # Positions (and duplicate keys) from the YAML composer: JSON is YAML, once surrogate-pair escapes,
        # which the composer refuses, are swapped for same-length ones so every column stays put.
        try:
            node = yaml.compose(_SURROGATE.sub(r"\\u0058", text), Loader=_Loader)
            if node is not None:
                problem = _positions(node, src, diags)
                if problem is not None:
                    diags.add(problem)
                    return src, diags
        except (yaml.YAMLError, RecursionError, ValueError):
            pass
    else:
        try:
            loader = _Loader(text)
            try:
                node = loader.get_single_node()
                if node is not None:
                    problem = _positions(node, src, diags)
                    if problem is not None:
                        diags.add(problem)
                        return src, diags
                    src.data = loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            diags.add(_syntax_error(exc, src))
            return src, diags
        except yaml.reader.ReaderError as exc:
            diags.add(_reader_error(exc, src))
            return src, diags
        except RecursionError:
            diags.add(_too_deep(src, "invalid YAML"))
            return src, diags
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            diags.add(src.at(error("VS002", f"invalid YAML: {exc}"), 1, 1))
            return src, diags
    if src.data is None:
        diags.add(
            error("VS003", "the file holds no document", (), "start from `vidspec init`").located(file, 1, 1)
        )
    elif not isinstance(src.data, dict):
        kind = type(src.data).__name__
        kind = {"list": "a list", "str": "a string", "int": "a number", "float": "a number"}.get(kind, kind)
        diags.add(
            src.locate(
                error(
                    "VS004",
                    f"the top level is {kind}, not a mapping",
                    (),
                    "a spec starts with `version: 1` and `scenes:`",
                )
            )
        )
    return src, diags


def _read_regular(path: Path) -> bytes:
    """A regular file's bytes. Anything else is refused before a byte is read: opening a FIFO waits for a
    writer forever, and /dev/zero never ends (O_NONBLOCK: the open itself never waits)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            device = stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            raise _NotRegular("a FIFO" if stat.S_ISFIFO(mode) else "a device" if device else "a socket")
        with os.fdopen(fd, "rb") as f:
            fd = -1  # closed by the file object
            return f.read()
    finally:
        if fd >= 0:
            os.close(fd)


class _NotRegular(Exception):
    pass


def load_file(path: Path) -> tuple[Source, Diagnostics]:
    file = str(path)
    diags = Diagnostics()
    try:
        raw = _read_regular(path)
    except _NotRegular as exc:
        hint = "a spec is a YAML or JSON text file"
        diags.add(error("VS001", f"not a regular file ({exc})", (), hint).located(file, None, None))
        return Source(file), diags
    except FileNotFoundError:
        diags.add(error("VS001", "no such file").located(file, None, None))
        return Source(file), diags
    except IsADirectoryError:
        diags.add(error("VS001", "is a directory, not a spec file").located(file, None, None))
        return Source(file), diags
    except OSError as exc:
        diags.add(error("VS001", f"cannot read: {exc.strerror}").located(file, None, None))
        return Source(file), diags
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    nul = body.find(b"\x00", 0, 8192)
    if nul >= 0:
        src = Source(file, text=body.decode("utf-8", "replace"))
        where = line_col(src.text, len(body[:nul].decode("utf-8", "replace")))
        hint = "a spec is a YAML or JSON text file"
        diags.add(src.at(error("VS001", "not a text file (binary data: a NUL byte)", (), hint), *where))
        return src, diags
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        src = Source(file, text=body.decode("utf-8", "replace"))
        where = line_col(src.text, len(body[: exc.start].decode("utf-8")))
        message = f"not UTF-8 text: byte 0x{body[exc.start]:02x} cannot be read as UTF-8"
        diags.add(src.at(error("VS001", message, (), "save the file as UTF-8"), *where))
        return src, diags
    return load_text(text, file, is_json=path.suffix.lower() == ".json")
