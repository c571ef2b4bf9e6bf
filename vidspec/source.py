"""Spec bytes -> plain data plus the source position of every key and value.

PyYAML's C loader composes node trees with positions ten times faster than a ruamel.yaml
load (bench/plan_large.py), so it is the parser; ruamel.yaml stays the benchmark's yardstick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic, Diagnostics, PathT, error

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

Pos = tuple[int, int]


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


def _walk(node: yaml.Node, path: PathT, src: Source, diags: Diagnostics) -> None:
    src.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else str(knode.value)
            child = (*path, key)
            kpos = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            if key in seen:
                d = error(
                    "VS005",
                    f"key '{key}' appears twice in the same mapping",
                    child,
                    "the YAML loader would keep only the last value; remove one",
                )
                diags.add(d.located(src.file, *kpos))
            seen.add(key)
            src.keys[child] = kpos
            _walk(vnode, child, src, diags)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), src, diags)


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
        try:  # positions only; JSON is (almost always) YAML too
            node = yaml.compose(text, Loader=_Loader)
            if node is not None:
                _walk(node, (), src, Diagnostics())
        except yaml.YAMLError:
            pass
    else:
        try:
            loader = _Loader(text)
            try:
                node = loader.get_single_node()
                if node is not None:
                    _walk(node, (), src, diags)
                    src.data = loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            # Point at where the broken construct starts (an unclosed quote), not at the end of the file.
            mark = exc.context_mark or exc.problem_mark
            problem = ", ".join(x for x in (exc.context, exc.problem) if x) or "syntax error"
            diags.add(_mark_diag(file, f"invalid YAML: {problem}", mark))
            return src, diags
        except yaml.YAMLError as exc:
            diags.add(_mark_diag(file, f"invalid YAML: {exc}", None))
            return src, diags
        except (ValueError, TypeError, OverflowError) as exc:
            diags.add(_mark_diag(file, f"invalid YAML value: {exc}", None))
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
