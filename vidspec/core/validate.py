"""Spec source -> (Project | None, Diagnostics). Runs pydantic, then every rule; collects everything."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from vidspec.core import rules
from vidspec.core.budget import budget_limit, over_budget
from vidspec.core.diagnostics import Diagnostic, Diagnostics, PathT, error, format_path
from vidspec.core.graph import Graph, build_graph
from vidspec.core.inputs import MediaInspector
from vidspec.core.outputs import project_outputs
from vidspec.core.project_root import ProjectPaths
from vidspec.core.resolve import resolve
from vidspec.core.rules.files import check_outputs
from vidspec.core.source import Source, load_file, load_text
from vidspec.core.spec import (
    MAX_MAGNITUDE,
    SCHEMA_KEY,
    Defaults,
    Dub,
    FrameRef,
    GeneratedImage,
    Loudness,
    Music,
    Narration,
    Output,
    Project,
    RatioOverride,
    ReferenceImage,
    Scene,
    Sfx,
    numeric_bounds,
)
from vidspec.core.timing import Timing

# Which model describes the mapping at a data path (for "did you mean" on unknown keys).
_CHILD_MODELS: dict[str, type[BaseModel]] = {
    "output": Output, "outputs": Output, "ratio_overrides": RatioOverride, "defaults": Defaults, "music": Music, "dub": Dub, "image": GeneratedImage,
    "narration": Narration, "sfx": Sfx, "references": ReferenceImage, "scenes": Scene, "loudness": Loudness,
}  # fmt: skip
_TYPE_WORDS = {
    "int_type": "a whole number", "int_from_float": "a whole number", "float_type": "a number",
    "string_type": "a string", "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "literal_error": None,
}  # fmt: skip


@dataclass
class Validated:
    source: Source
    diagnostics: Diagnostics
    project: Project | None = None
    graph: Graph | None = None

    @property
    def ok(self) -> bool:
        return self.project is not None and not self.diagnostics.has_errors()


def _model_at(path: PathT) -> type[BaseModel]:
    model: type[BaseModel] = Project
    for part in path:
        if isinstance(part, str) and part in _CHILD_MODELS:
            model = _CHILD_MODELS[part]
    return model


_LONG = 10**21  # from here on a number is described by its length, not printed whole


def _digits(value: int) -> int:
    n = abs(value)
    d = int(math.log10(n))  # a float estimate, exact after the two checks below
    if n >= 10 ** (d + 1):
        d += 1
    elif n < 10**d:
        d -= 1
    return d + 1


def show_number(value: Any) -> str:
    """A number as a message shows it: a 400-digit one by its length (str() refuses past 4300 digits)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) and abs(value) >= _LONG:
        sign = "" if value > 0 else "negative "
        return f"a {sign}{_digits(value)}-digit number"
    return repr(value)


def _range_hint(path: PathT) -> str:
    lo, hi = (None, None)
    if path and isinstance(path[-1], str):
        lo, hi = numeric_bounds(_model_at(path[:-1]), path[-1])
    if lo is not None and hi is not None:
        return f"`{path[-1]}` takes {lo:.15g} to {hi:.15g}"
    return f"a number in a spec stays within ±{MAX_MAGNITUDE} (2^53)"


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return show_number(value) if abs(value) >= _LONG else f"the number {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def _strip_loc(data: Any, loc: tuple[str | int, ...], missing: bool) -> tuple[PathT, PathT | None, str]:
    """Drop pydantic's union-branch tags from a loc by walking the real data.

    Returns (the data path, where the first union was met or None, that union branch's tag)."""
    path: list[str | int] = []
    cur = data
    union_at: PathT | None = None
    tag = ""
    for i, part in enumerate(loc):
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_list or isinstance(cur, dict) and part in cur:
            path.append(part)
            cur = cur[part]
        elif missing and i == len(loc) - 1:
            path.append(part)  # the missing key itself
        elif union_at is None:
            union_at, tag = tuple(path), _branch_tag(str(part))
    return tuple(path), union_at, tag


def _branch_tag(tag: str) -> str:
    """A model branch with a validator is tagged `function-after[_check(), Loudness]`: its model's name."""
    found = re.fullmatch(r"function-\w+\[.*, (\w+)\]", tag)
    return found.group(1) if found else tag


def _value_at(data: Any, path: PathT) -> Any:
    cur = data
    for part in path:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def translate(exc: ValidationError, data: Any, base: PathT = ()) -> list[tuple[Diagnostic, bool]]:
    """pydantic errors -> (diagnostic, points_at_key). One diagnostic per offending value."""
    out: list[tuple[Diagnostic, bool]] = []
    unions: dict[PathT, list[Any]] = {}
    in_branch: dict[PathT, list[tuple[Any, str]]] = {}
    unclaimed: dict[PathT, list[Any]] = {}  # a mapping's errors that no model branch it is written for gave
    claimed: set[PathT] = set()
    for err in exc.errors():
        path, union_at, tag = _strip_loc(data, tuple(err["loc"]), err["type"] == "missing")
        if union_at is None:
            out.append(_one(err, (*base, *path), _value_at(data, path)))
        elif isinstance(_value_at(data, union_at), dict):
            # a mapping: only the errors of the model branch it is written for are about this value
            if tag[:1].isupper() and _branch_applies(tag, _value_at(data, union_at)):
                in_branch.setdefault(path, []).append((err, tag))
                claimed.add(union_at)
            else:
                unclaimed.setdefault(union_at, []).append(err)
        else:
            unions.setdefault(union_at, []).append(err)
    for at, errs in unclaimed.items():  # never "valid": a mapping no branch takes (or a validator's error)
        if at not in claimed:
            unions.setdefault(at, []).extend(errs)
    for path, found in in_branch.items():  # one value inside the branch: one error (a nested union has many)
        err, tag = _pick_error(found, _value_at(data, path))
        out.append(_one(err, (*base, *path), _value_at(data, path), _BRANCH_MODELS.get(tag)))
    for path, errs in unions.items():  # a scalar that fits no branch: one error for the value
        value = _value_at(data, path)
        full = (*base, *path)
        specific = [e for e in errs if not e["type"].endswith("_type")]
        if specific:  # e.g. in range for one branch but not the other: say the specific thing
            out.append(_one(specific[0], full, value))
            continue
        kinds = sorted({w for e in errs if (w := _TYPE_WORDS.get(e["type"]))})
        message = (
            f"`{full[-1]}` should be {' or '.join(kinds) or 'another type'}, not {_describe_value(value)}"
        )
        out.append((error("VS102", message, full), False))
    return out


# Mapping branches of a union told apart by a key only they take: `image: {from: ...}` is a FrameRef.
_BRANCH_MARKERS: dict[str, str] = {"FrameRef": "from"}
_BRANCH_MODELS: dict[str, type[BaseModel]] = {"FrameRef": FrameRef, "GeneratedImage": GeneratedImage}


def _branch_applies(tag: str, value: dict[str, Any]) -> bool:
    marker = _BRANCH_MARKERS.get(tag)
    if marker is not None:
        return marker in value
    return not any(m in value for m in _BRANCH_MARKERS.values())


def _pick_error(found: list[tuple[Any, str]], value: Any) -> tuple[Any, str]:
    """Of several errors for one value (the branches of a nested union), the one that fits its type."""
    if len(found) == 1:
        return found[0]
    wanted = "literal_error" if isinstance(value, str) else None
    for err, tag in found:
        if err["type"] == wanted or wanted is None and not err["type"].endswith(("_type", "literal_error")):
            return err, tag
    return found[0]


def _keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a spec writes for a model's fields (an alias such as `from` where it has one)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def _one(err: Any, path: PathT, value: Any, model: type[BaseModel] | None = None) -> tuple[Diagnostic, bool]:
    t = err["type"]
    name = path[-1] if path else "spec"
    if t == "extra_forbidden":
        fields = _keys_of(model or _model_at(path[:-1]))
        fallback = "valid keys here: " + ", ".join(fields)
        if len(path) > 1 and name in Project.model_fields:
            fallback = f"`{name}` is a top-level key, not part of {format_path(path[:-1])}"
        hint = rules.did_you_mean(str(name), fields, fallback)
        return error("VS101", f"unknown key '{name}'", path, hint), True
    if t == "missing":
        return error("VS103", f"`{name}` is required", path, None), False
    if t == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        hint = rules.did_you_mean(str(value), choices, f"one of: {', '.join(choices)}")
        return error("VS104", f"`{name}` cannot be {_describe_value(value)}", path, hint), False
    if t == "string_pattern_mismatch" and name == "id":
        return error(
            "VS107",
            f"scene id {value!r} is not valid",
            path,
            "use lowercase letters, digits, - and _, starting with a letter or digit",
        ), False
    if t == "string_pattern_mismatch" and name == "name":
        return error("VS104", f"project name {value!r} cannot name files", path,
                     "use letters, digits, '.', '_' and '-', starting with a letter or digit"), False  # fmt: skip
    if t == "string_pattern_mismatch" and name == "path":
        return error("VS104", f"output path {value!r} must be an .mp4 or .mov file", path,
                     "for example build/film.mp4"), False  # fmt: skip
    if t == "finite_number":
        hint = _range_hint(path)
        return error("VS105", f"`{name}` must be a finite number, not {value}", path, hint), False
    if t == "control_character":
        code = err.get("ctx", {}).get("code", "")
        return error("VS006", f"`{name}` holds the control character U+{code}", path,
                     "remove it; YAML escapes such as \\0 or \\e write these, and no prompt or file name holds one"), False  # fmt: skip
    if t == "number_too_large":
        hint = _range_hint(path)
        return error("VS105", f"`{name}` is {show_number(value)}: far out of range", path, hint), False
    if t == "string_too_long":
        return error("VS105", f"`{name}` is too long", path, None), False
    if t in ("too_short", "too_long") and name == "trim":
        return error("VS316", f"`trim` takes two numbers, [start, end], not {len(value or [])}", path,
                     "for example trim: [1.5, 4] (seconds of the clip)"), False  # fmt: skip
    if t == "too_short" and name == "scenes":
        return error("VS108", "the spec has no scenes", path, "add at least one scene under `scenes:`"), False
    if t in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return error("VS105", f"`{name}` is {show_number(value)}: {err['msg'].lower()}", path, None), False
    word = _TYPE_WORDS.get(t)
    if word:
        hint = None
        if t == "int_type" and isinstance(value, float):
            hint = "whole seconds only; vidspec never rounds"
        elif t == "int_type" and isinstance(value, str) and value.strip().isdigit():
            hint = f"write {value.strip()} without quotes"
        elif t == "string_type" and isinstance(value, (int, float)) and name in ("ratio",):
            hint = 'quote it, e.g. "1280:720"'
        elif (
            t == "bool_type"
            and isinstance(value, str)
            and value.lower() in ("yes", "no", "on", "off", "y", "n")
        ):
            hint = "write true or false (in YAML 1.2, which vidspec reads, yes/no/on/off are strings)"
        elif t == "string_type" and isinstance(value, (int, float, bool)):
            hint = "quote it to make it a string"
        return error("VS102", f"`{name}` should be {word}, not {_describe_value(value)}", path, hint), False
    return error("VS102", f"`{name}`: {err['msg']}", path, None), False


def _salvage(model: type[BaseModel], value: Any, placeholder_id: str | None = None) -> Any:
    """Validate `value`, dropping the keys that fail, so that rules still run on what is valid."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        if not isinstance(value, dict):
            return None
        bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
        kept = {k: v for k, v in value.items() if k not in bad}
        if placeholder_id is not None and "id" in bad:
            kept["id"] = placeholder_id
        try:
            return model.model_validate(kept)
        except ValidationError:
            return None


def _salvage_list(model: type[BaseModel], value: Any) -> list[Any] | None:
    if not isinstance(value, list):
        return None
    kept = [item for item in (_salvage(model, v) for v in value) if item is not None]
    return kept or None


def _partial_project(data: dict[str, Any]) -> tuple[Project, list[int]]:
    """The valid parts of an invalid project, and the file index of each scene kept."""
    raw = data.get("scenes") if isinstance(data.get("scenes"), list) else []
    scenes: list[Scene] = []
    index_map: list[int] = []
    for i, value in enumerate(raw or []):
        scene = _salvage(Scene, value, f"invalid-{i}")
        if scene is not None:
            scenes.append(scene)
            index_map.append(i)
    project = Project.model_construct(
        {k for k in data if k in Project.model_fields},  # what the file set (`output` and `outputs`: VS109)
        version=1,
        name=None,
        output=_salvage(Output, data.get("output", {})) or Output(),
        outputs=_salvage_list(Output, data.get("outputs")),
        budget=None,
        defaults=_salvage(Defaults, data.get("defaults", {})) or Defaults(),
        music=_salvage(Music, data["music"]) if "music" in data else None,
        dub=_salvage(Dub, data["dub"]) if "dub" in data else None,
        scenes=scenes,
    )
    return project, index_map


def validate_source(
    src: Source,
    diags: Diagnostics,
    *,
    budget: float | None = None,
    paths: ProjectPaths | None = None,
    inspect: MediaInspector | None = None,
) -> Validated:
    """`paths`: where inputs and outputs may be (default: the spec's project, the default cache); `inspect`:
    the media layer's look inside each image and video input (default: magic bytes only)."""
    if diags.has_errors() or not isinstance(src.data, dict):
        return Validated(src, diags)
    data = src.data
    if SCHEMA_KEY in data:  # an editor's pointer to the schema, not part of the film
        if not isinstance(data[SCHEMA_KEY], str):
            value = _describe_value(data[SCHEMA_KEY])
            message = f"`{SCHEMA_KEY}` should be a string (the schema's URL or path), not {value}"
            diags.add(src.locate(error("VS102", message, (SCHEMA_KEY,))))
        data = {k: v for k, v in data.items() if k != SCHEMA_KEY}
    base = Path(src.file).resolve().parent
    project: Project
    index_map: list[int] = []
    try:
        project = Project.model_validate(data)
        partial = False
    except ValidationError as exc:
        for diag, at_key in translate(exc, data):
            diags.add(src.locate(diag, key=at_key))
        project, index_map = _partial_project(data)
        partial = True
    if not partial:
        index_map = list(range(len(project.scenes)))
    scenes = resolve(project)
    paths = paths if paths is not None else ProjectPaths.for_spec(Path(src.file))
    ctx = Timing(project, base, scenes, paths=paths, inspect=inspect)
    name = project_name(project, Path(src.file))
    found: list[Diagnostic] = list(check_outputs(project_outputs(project, scenes, name), name, paths))
    for rs in scenes:
        found.extend(rules.check_scene(rs, ctx))
    found.extend(rules.check_project(project, ctx, scenes))
    seen: set[tuple[str, str, PathT]] = set()
    for diag in found:
        diag = _remap(diag, index_map)
        if (diag.code, diag.message, diag.path) not in seen:  # one bad default, reported once
            seen.add((diag.code, diag.message, diag.path))
            diags.add(src.locate(diag))
    if partial:
        return Validated(src, diags)
    graph = build_graph(project, base, scenes) if not diags.has_errors() else None
    limit = budget_limit(budget, project.budget)
    over = over_budget(graph.total_credits, limit) if graph is not None else None
    if over is not None:
        path: PathT = ("budget",) if budget is None else ()
        diags.add(
            src.locate(
                error(
                    "VS601",
                    over,
                    path,
                    "raise `budget`, or cut scenes; `vidspec plan` shows the cost per asset",
                )
            )
        )
    return Validated(src, diags, project, graph)


def _remap(diag: Diagnostic, index_map: list[int]) -> Diagnostic:
    p = diag.path
    if len(p) >= 2 and p[0] == "scenes" and isinstance(p[1], int) and p[1] < len(index_map):
        return replace(diag, path=("scenes", index_map[p[1]], *p[2:]))
    return diag


def validate_file(
    path: Path,
    *,
    budget: float | None = None,
    paths: ProjectPaths | None = None,
    inspect: MediaInspector | None = None,
) -> Validated:
    src, diags = load_file(path)
    return validate_source(src, diags, budget=budget, paths=paths, inspect=inspect)


def validate_text(text: str, file: str = "spec.yaml", *, budget: float | None = None) -> Validated:
    src, diags = load_text(text, file, is_json=file.endswith(".json"))
    return validate_source(src, diags, budget=budget)


def project_name(project: Project, spec_path: Path) -> str:
    return project.name or spec_path.stem
