"""Numbers of any size in any numeric field: a VS105 at the number's file:line:col, never an internal error."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.helpers import run
from vidspec.core import spec as spec_module

BIG = "9" * 400

# A spec that sets every numeric field once, each to a value that is fine on its own.
BASE: dict[str, Any] = {
    "version": 1,
    "output": {"fps": 24, "loudness": {"integrated": -16, "true_peak": -1}},
    "budget": 5000,
    "music": {"path": "m.mp3", "volume": 0.5, "fade_in": 1, "fade_out": 2, "duck": 0.5},
    "defaults": {
        "duration": 5, "seed": 1, "transition_duration": 0.5, "narration_offset": 0, "takes": 1,
        "image": {"prompt": "a jar", "seed": 2},
        "sfx": {"prompt": "wok", "duration": 3, "at": 0, "volume": 1},
    },
    "scenes": [{
        "id": "a", "prompt": "Steam rises from a bowl, slow push-in", "duration": 5, "seed": 1,
        "transition_duration": 0.5, "narration_offset": 0, "takes": 1,
        "image": {"prompt": "a jar", "seed": 2},
        "sfx": {"prompt": "wok", "duration": 3, "at": 0, "volume": 1},
    }, {
        "id": "b", "prompt": "The bowl, closer", "image": {"from": "a", "frame": 1},
    }],
}  # fmt: skip


def _admits_number(tp: Any) -> bool:
    if tp in (int, float):
        return True
    if typing.get_origin(tp) is typing.Literal:
        return any(isinstance(a, (int, float)) and not isinstance(a, bool) for a in typing.get_args(tp))
    return any(_admits_number(a) for a in typing.get_args(tp))


def _models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if typing.get_origin(tp) in (list, typing.Union, types.UnionType, typing.Annotated):
        return [m for a in typing.get_args(tp) for m in _models_in(a)]
    return []


# A model that shares its place with another one of a union (`image`): where BASE writes it.
BRANCH_AT: dict[type[BaseModel], tuple[str | int, ...]] = {spec_module.FrameRef: ("scenes", 1, "image")}
# Covered by their own tests below: `outputs` is the same Output model as `output` (both at once is VS109),
# and `trim` needs a footage file.
_ELSEWHERE = {"outputs", "trim"}


def numeric_paths(model: type[BaseModel], prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every numeric field the spec models define, as a data path into BASE (read from the models, so a
    field added later is covered without editing this test)."""
    out: list[tuple[str | int, ...]] = []
    for name, info in model.model_fields.items():
        if name in _ELSEWHERE:
            continue
        path = (*prefix, name)
        if name == "scenes":
            path = (*path, 0)
        if _admits_number(info.annotation):
            out.append(path)
        for sub in _models_in(info.annotation):
            out.extend(numeric_paths(sub, BRANCH_AT.get(sub, path)))
    return list(dict.fromkeys(out))


PATHS = numeric_paths(spec_module.Project)


def _ids(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


def test_the_base_spec_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, _, _ = _spec_with(tmp_path, ("budget",), "5000")
    assert run(["validate", str(spec)], capsys)[0] == 0


def test_every_numeric_field_is_covered() -> None:
    names = {_ids(p) for p in PATHS}
    for expected in ("budget", "output.fps", "music.volume", "music.duck", "scenes.0.duration",
                     "scenes.0.seed", "scenes.0.sfx.at", "scenes.0.image.seed", "defaults.narration_offset"):  # fmt: skip
        assert expected in names
    for path in PATHS:  # BASE sets each one, so the parametrized test below changes a value that is there
        cur: Any = BASE
        for part in path:
            cur = cur[part]


def _spec_with(tmp_path: Path, path: tuple[str | int, ...], value: str) -> tuple[Path, int, int]:
    data = json.loads(json.dumps(BASE))
    cur: Any = data
    for part in path[:-1]:
        cur = cur[part]
    cur[path[-1]] = "@@NUMBER@@"
    text = json.dumps(data, indent=2).replace('"@@NUMBER@@"', value)
    spec = tmp_path / "spec.yaml"  # JSON is YAML: read by the YAML loader, like a hand-written spec
    spec.write_text(text, "utf-8")
    (tmp_path / "m.mp3").write_bytes(b"")  # BASE alone is valid, so plan and build go past validation
    before = text[: text.index(value)]
    return spec, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize(
    "value",
    [BIG, "-" + BIG, "1e999", "-1e999", "1" + "0" * 400 + ".5", "0x" + "f" * 400],
    ids=["400-digits", "minus-400-digits", "1e999", "-1e999", "400-digit-float", "400-hex-digits"],
)
@pytest.mark.parametrize("path", PATHS, ids=_ids)
def test_a_huge_number_anywhere_is_out_of_range(
    tmp_path: Path, path: tuple[str | int, ...], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, line, col = _spec_with(tmp_path, path, value)
    code, out, err = run(["validate", str(spec)], capsys)
    assert code == 1, out + err
    assert f"{spec}:{line}:{col}: error[VS105]: " in out, out
    assert "internal error" not in out + err
    assert BIG not in out  # a 400-digit number is described, not printed whole

    code, out, err = run(["plan", str(spec), "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == 1, out + err
    assert f"{spec}:{line}:{col}: error[VS105]: " in err, err
    assert "internal error" not in out + err


@pytest.mark.parametrize("value", [str(2**53), str(-(2**53)), "9007199254740992.0"])
@pytest.mark.parametrize("path", PATHS, ids=_ids)
def test_the_largest_numbers_allowed_never_crash(
    tmp_path: Path, path: tuple[str | int, ...], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, _, _ = _spec_with(tmp_path, path, value)
    for args in (["validate", str(spec)], ["plan", str(spec), "--cache-dir", str(tmp_path / "cache")]):
        code, out, err = run(args, capsys)
        assert code in (0, 1) and "internal error" not in out + err, out + err


@pytest.mark.parametrize("value", [BIG, ".inf", "-.inf", "1e999", "1e300"], ids=lambda v: v[:12])
def test_the_duration_from_the_issue(tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f'version: 1\nscenes:\n  - id: a\n    prompt: "Dawn over the bay"\n    duration: {value}\n'
    )
    code, out, _ = run(["validate", "--format", "json", str(spec)], capsys)
    assert code == 1
    [d] = json.loads(out)["diagnostics"]
    assert (d["code"], d["line"], d["column"], d["path"]) == ("VS105", 5, 15, "scenes[0].duration")


def test_more_digits_than_python_converts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Python refuses to turn more than 4300 decimal digits into an int (a ValueError, not a YAML error).
    for name, text in (
        ("spec.yaml", f"version: 1\nscenes:\n  - id: a\n    prompt: x\n    seed: {'7' * 5000}\n"),
        ("spec.json", f'{{"version": 1, "scenes": [{{"id": "a", "prompt": "x", "seed": {"7" * 5000}}}]}}'),
    ):
        spec = tmp_path / name
        spec.write_text(text)
        code, out, err = run(["validate", "--format", "json", str(spec)], capsys)
        assert code == 1, err
        [d] = json.loads(out)["diagnostics"]
        assert (d["code"], d["path"]) == ("VS105", "scenes[0].seed"), d
        assert d["line"] is not None and d["column"] is not None
        assert "5000-digit" in d["message"]


@pytest.mark.parametrize(
    "value", [BIG, "-" + BIG, "1e999", ".inf"], ids=["400-digits", "minus", "1e999", "inf"]
)
@pytest.mark.parametrize("where", ["trim", "outputs"])
def test_huge_numbers_in_trim_and_outputs(
    tmp_path: Path, where: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "trim":
        field = f"    clip: c.mp4\n    trim: [0, {value}]\n"
        head = ""
    else:
        field = ""
        head = f"outputs:\n  - fps: {value}\n"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"version: 1\n{head}scenes:\n  - id: a\n{field}")
    code, out, err = run(["validate", "--format", "json", str(spec)], capsys)
    assert code == 1 and "internal error" not in out + err, out + err
    codes = [(d["code"], d["path"]) for d in json.loads(out)["diagnostics"]]
    expected = "scenes[0].trim[1]" if where == "trim" else "outputs[0].fps"
    assert ("VS105", expected) in codes, codes
