"""Write values into one scene of a spec file, keeping everything else as the author wrote it.

YAML: ruamel.yaml's round-trip loader says where each key and value of the scene is, and only those bytes
change (a new key goes on its own line, indented like its neighbours, or into a flow mapping); the result is
read back and must hold exactly the old data plus the new values. Where that edit cannot be made, ruamel.yaml
dumps the round-trip data with the file's own indentation (comments, order and quotes are kept).
JSON: edited in place the same way: indentation, inline objects and key order stay."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]  # the decoder's own string scanner
from typing import Any

from vidspec.errors import ConfigError

_KEY_LINE = re.compile(r"^(\s*)(?:- +)?[^\s#'\"-][^:#]*:\s*(#.*)?$")  # a key that opens a nested block
_ITEM_LINE = re.compile(r"^(\s*)- +\S")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def guess_yaml_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes its blocks; ruamel.yaml's defaults
    of this project (2, 4, 2) where the file does not say."""
    mapping = offset = None
    lines = _content_lines(text)
    for here, nxt in zip(lines, lines[1:]):
        m = _KEY_LINE.match(here)
        if m is None:
            continue
        base = _indent(here) + (len(here.lstrip(" ")) - len(here.lstrip(" ").lstrip("- ")))
        step = _indent(nxt) - base
        if step < 0 or (step == 0 and _ITEM_LINE.match(nxt) is None):
            continue
        if _ITEM_LINE.match(nxt):
            offset = step if offset is None else offset
        elif step > 0:
            mapping = step if mapping is None else mapping
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, offset + 2, offset


def _put(scene: Any, values: Mapping[str, Any], before: str | None) -> None:
    """Set each value in place when the scene has the key; otherwise insert it before ``before`` (or at the end)."""
    for key, value in values.items():
        if key in scene:
            scene[key] = value
            continue
        keys = list(scene.keys())
        at = keys.index(before) if before in keys else len(keys)
        if hasattr(scene, "insert"):
            scene.insert(at, key, value)
        else:  # a plain dict (JSON): rebuild it in order
            items = list(scene.items())
            items.insert(at, (key, value))
            scene.clear()
            scene.update(items)


def _scene(data: Any, index: int) -> Any:
    scenes = data.get("scenes") if isinstance(data, Mapping) else None
    if not isinstance(scenes, list) or not 0 <= index < len(scenes) or not isinstance(scenes[index], Mapping):
        raise ConfigError(f"the spec has no scenes[{index}] mapping to write into")
    return scenes[index]


def _yaml_dump(text: str, index: int, values: Mapping[str, Any], before: str | None) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # never re-wrap a long prompt
    mapping, sequence, offset = guess_yaml_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    if text.lstrip().startswith("---"):
        yaml.explicit_start = True
    data = yaml.load(text)
    _put(_scene(data, index), values, before)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


_PLAIN_TOKEN = re.compile(r"[^\s,}\]#]+")


def _yaml_token(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, bool)) or value is None else str(value)


def _yaml_in_place(text: str, index: int, values: Mapping[str, Any], before: str | None) -> str | None:
    """The text with only the scene's values edited, or None when this cannot be done safely."""
    from ruamel.yaml import YAML

    scene = _scene(YAML().load(text), index)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def at(pos: tuple[int, int]) -> int:
        return starts[pos[0]] + pos[1]

    flow = bool(scene.fa.flow_style())
    keys = list(scene.keys())
    edits: list[tuple[int, int, str]] = []
    for key, value in values.items():
        token = _yaml_token(value)
        if key in scene:
            m = _PLAIN_TOKEN.match(text, at(scene.lc.value(key)))
            if m is None or not isinstance(scene[key], int) or m.group() != str(scene[key]):
                return None  # only a plain number is replaced in place
            edits.append((m.start(), m.end(), token))
        elif before in keys:
            line, col = scene.lc.key(before)
            new = f"{key}: {token}, " if flow else f"{key}: {token}\n" + " " * col
            edits.append((at((line, col)), at((line, col)), new))
        elif flow:
            m = _PLAIN_TOKEN.match(text, at(scene.lc.value(keys[0])))
            if m is None:
                return None
            edits.append((m.end(), m.end(), f", {key}: {token}"))
        else:  # on a line of its own after the first key (`id: ...`), when that one takes a single line
            line, col = scene.lc.key(keys[0])
            if len(keys) < 2 or scene.lc.key(keys[1])[0] != line + 1:
                return None
            edits.append((starts[line + 1], starts[line + 1], " " * col + f"{key}: {token}\n"))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def edit_yaml_scene(text: str, index: int, values: Mapping[str, Any], before: str | None = None) -> str:
    from ruamel.yaml import YAML

    expected = YAML(typ="safe", pure=True).load(text)
    _put(_scene(expected, index), values, before)
    edited = _yaml_in_place(text, index, values, before)
    if edited is not None and YAML(typ="safe", pure=True).load(edited) == expected:
        return edited
    return _yaml_dump(text, index, values, before)


_JSON_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_WS = re.compile(r"[ \t\r\n]*")
Span = tuple[int, int, int]  # where a member's key starts, where its value starts and ends


class _JsonSpans:
    """Where each object member of a JSON text is, by its path: to edit the text in place."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.members: dict[tuple[str | int, ...], Span] = {}
        self.ends: dict[tuple[str | int, ...], int] = {}  # where each container's closing bracket is
        end = self._value(_WS.match(text, 0).end(), ())  # type: ignore[union-attr]
        if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
            raise ValueError("trailing data")

    def _skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()  # type: ignore[union-attr]

    def _value(self, i: int, path: tuple[str | int, ...]) -> int:
        text = self.text
        if text.startswith("{", i):
            return self._container(i, path, "}")
        if text.startswith("[", i):
            return self._container(i, path, "]")
        if text.startswith('"', i):
            return int(scanstring(text, i + 1)[1])
        m = _JSON_SCALAR.match(text, i)
        if m is None:
            raise ValueError(f"unexpected character at {i}")
        return m.end()

    def _container(self, i: int, path: tuple[str | int, ...], close: str) -> int:
        text = self.text
        i = self._skip(i + 1)
        n = 0
        while not text.startswith(close, i):
            if close == "}":
                key, after = scanstring(text, i + 1)
                colon = self._skip(after)
                start = self._skip(colon + 1)
                end = self._value(start, path + (key,))
                self.members[path + (key,)] = (i, start, end)
            else:
                end = self._value(i, path + (n,))
            n += 1
            i = self._skip(end)
            if text.startswith(",", i):
                i = self._skip(i + 1)
        self.ends[path] = i
        return i + 1


def edit_json_scene(text: str, index: int, values: Mapping[str, Any], before: str | None = None) -> str:
    """Only the values change: every other byte of the file (indentation, inline objects, key order) stays."""
    _scene(json.loads(text), index)
    spans = _JsonSpans(text)
    scene: tuple[str | int, ...] = ("scenes", index)
    order = sorted(span for p, span in spans.members.items() if len(p) == 3 and p[:2] == scene)
    edits: list[tuple[int, int, str]] = []  # (start, end, new text)
    for key, value in values.items():
        token = json.dumps(value, ensure_ascii=False)
        span = spans.members.get(scene + (key,))
        if span is not None:
            edits.append((span[1], span[2], token))
            continue
        target = spans.members.get(scene + (before,)) if before is not None else None
        if target is not None:  # `"key": value,` and the whitespace the next key has, before that key
            prev_end = max((s[2] for s in order if s[2] < target[0]), default=target[0])
            gap = text[prev_end : target[0]].lstrip(",")
            edits.append((target[0], target[0], f'"{key}": {token},{gap}'))
        else:  # after the last member, spaced as the last member is
            last = order[-1]
            prev_end = max((s[2] for s in order if s[2] < last[0]), default=last[0])
            gap = text[prev_end : last[0]].lstrip(",") if len(order) > 1 else " "
            edits.append((last[2], last[2], f',{gap}"{key}": {token}'))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def edit_scene(
    text: str, index: int, values: Mapping[str, Any], *, is_json: bool, before: str | None = None
) -> str:
    """The spec text with ``values`` set in scenes[index] (a missing key goes before the key ``before``)."""
    if is_json:
        return edit_json_scene(text, index, values, before)
    return edit_yaml_scene(text, index, values, before)
