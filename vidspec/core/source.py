"""Spec bytes -> plain data plus the source position of every key and value.

PyYAML's C loader composes node trees with positions ten times faster than a ruamel.yaml
load (bench/plan_large.py), so it is the parser; ruamel.yaml stays the benchmark's yardstick.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidspec.core.diagnostics import Diagnostic, Diagnostics, PathT, error

try:
    from yaml import CSafeLoader as _Base
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

Pos = tuple[int, int]
MAX_NODES = 500_000  # an alias bomb expands exponentially; a real spec of 1,000 scenes has ~15,000 nodes
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _Loader(_Base):
    """YAML 1.2 core scalars, as ruamel.yaml reads them: `010` is 10, `1:30` a string, `no` a string.

    PyYAML's YAML 1.1 rules would silently turn `seed: 010` into 8 and `language: no` into False."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, Any]]] = {}


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


def _int12(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


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
        return diag.located(self.file, pos[0] if pos else None, pos[1] if pos else None)


class _TooBig(Exception):
    pass


def _walk(
    node: yaml.Node, path: PathT, src: Source, diags: Diagnostics, active: set[int], count: list[int]
) -> None:
    if id(node) in active:
        raise _TooBig("an alias refers to a node that contains it (a recursive document)")
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _TooBig(f"the document expands to more than {MAX_NODES:,} values (nested aliases?)")
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
        return error("VS002", f"invalid document: {exc}").located(src.file, 1, 1)
    except RecursionError:
        return error("VS002", "invalid document: nested too deeply").located(src.file, 1, 1)
    return None


def _mark_diag(file: str, message: str, mark: Any) -> Diagnostic:
    d = error("VS002", message)
    if mark is None:
        return d.located(file, None, None)
    return d.located(file, mark.line + 1, mark.column + 1)


def load_text(text: str, file: str, *, is_json: bool = False) -> tuple[Source, Diagnostics]:
    src = Source(file)
    diags = Diagnostics()
    if not text.strip():
        diags.add(
            error("VS003", "the file is empty", (), "start from `vidspec init`").located(file, None, None)
        )
        return src, diags
    if is_json:
        try:
            src.data = json.loads(text)
        except json.JSONDecodeError as exc:
            diags.add(error("VS002", f"invalid JSON: {exc.msg}").located(file, exc.lineno, exc.colno))
            return src, diags
        except RecursionError:
            diags.add(error("VS002", "invalid JSON: nested too deeply").located(file, 1, 1))
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
        except (yaml.YAMLError, RecursionError):
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
            # Point at where the broken construct starts (an unclosed quote), not at the end of the file.
            mark = exc.context_mark or exc.problem_mark
            what = ", ".join(x for x in (exc.context, exc.problem) if x) or "syntax error"
            diags.add(_mark_diag(file, f"invalid YAML: {what}", mark))
            return src, diags
        except yaml.YAMLError as exc:
            diags.add(_mark_diag(file, f"invalid YAML: {exc}", None))
            return src, diags
        except (ValueError, TypeError, OverflowError) as exc:
            diags.add(_mark_diag(file, f"invalid YAML value: {exc}", None))
            return src, diags
        except RecursionError:
            diags.add(_mark_diag(file, "invalid YAML: nested too deeply", None))
            return src, diags
    if src.data is None:
        diags.add(
            error("VS003", "the file holds no document", (), "start from `vidspec init`").located(file, 1, 1)
        )
    elif not isinstance(src.data, dict):
        kind = type(src.data).__name__
        kind = {"list": "a list", "str": "a string", "int": "a number", "float": "a number"}.get(kind, kind)
        diags.add(
            error(
                "VS004",
                f"the top level is {kind}, not a mapping",
                (),
                "a spec starts with `version: 1` and `scenes:`",
            ).located(file, 1, 1)
        )
    return src, diags


def load_file(path: Path) -> tuple[Source, Diagnostics]:
    file = str(path)
    diags = Diagnostics()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        diags.add(error("VS001", "no such file").located(file, None, None))
        return Source(file), diags
    except IsADirectoryError:
        diags.add(error("VS001", "is a directory, not a spec file").located(file, None, None))
        return Source(file), diags
    except OSError as exc:
        diags.add(error("VS001", f"cannot read: {exc.strerror}").located(file, None, None))
        return Source(file), diags
    if b"\x00" in raw[:8192]:
        diags.add(error("VS001", "not a text file (binary data)").located(file, None, None))
        return Source(file), diags
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        diags.add(
            error("VS001", f"not UTF-8 text (bad byte at offset {exc.start})").located(file, None, None)
        )
        return Source(file), diags
    return load_text(text, file, is_json=path.suffix.lower() == ".json")
