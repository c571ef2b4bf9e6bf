"""The JSON Schema vidspec publishes: standard regexes (ECMA-262), closed sets as enums, and `$schema` allowed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import regress

from vidspec.core import catalog as cat
from vidspec.core.spec import OUTPUT_SUFFIX_PATTERN, Output, json_schema
from vidspec.core.validate import validate_text

SPEC = {"version": 1, "scenes": [{"id": "one", "prompt": "A lighthouse at dawn"}]}


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def _string_branch(prop: dict[str, Any]) -> dict[str, Any]:
    """The string part of a property (`anyOf: [{type: string}, {type: null}]` or the property itself)."""
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") == "string":
            return branch
    raise AssertionError(f"no string branch in {prop}")


def test_every_pattern_is_an_ecma_262_regex() -> None:
    patterns = list(_patterns(json_schema()))
    assert patterns
    for p in patterns:
        # Unicode mode, as editors (ajv in yaml-language-server / VS Code) compile them.
        regress.Regex(p, "u")
        assert not re.search(r"\(\?[a-zA-Z<P]|\\[AZz]", p), p


@pytest.mark.parametrize(
    "path",
    ["a.mp4", "a.MP4", "b/c.Mov", "x.mP4", "a.mov", ".mp4", "a.mp3", "a.mp4.txt", "mp4", "a.mp4\n",
     "a.mp4 ", "a.m4v", "a.mpg4", "a.ＭＰ４", "a.\u212a", "film.MOV"],
)  # fmt: skip
def test_output_suffix_means_the_same_in_python_and_ecma(path: str) -> None:
    # What the old `(?i)\.(mp4|mov)$` meant to pydantic (Rust regex: `$` is the end of the text).
    expected = re.search(r"\.(mp4|mov)\Z", path, re.IGNORECASE) is not None
    try:
        Output.model_validate({"path": path})
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == expected
    assert (regress.Regex(OUTPUT_SUFFIX_PATTERN, "u").find(path) is not None) == expected


def _props(schema: dict[str, Any], model: str) -> dict[str, Any]:
    props: dict[str, Any] = schema["$defs"][model]["properties"]
    return props


def test_closed_sets_are_enums_from_the_catalogue() -> None:
    s = json_schema()
    video_ratios = {r for row in cat.CATALOG if row.kind == "video" for r in row.ratios}
    image_ratios = {r for row in cat.CATALOG if row.kind == "image" for r in row.ratios}
    for model in ("Scene", "Defaults"):
        p = _props(s, model)
        assert _string_branch(p["model"])["enum"] == cat.models_of_kind("video")
        assert set(_string_branch(p["ratio"])["enum"]) == video_ratios
        assert _string_branch(p["voice"])["enum"] == list(cat.VOICES)
        for name, values in (
            ("transition", ["cut", "crossfade", "fade"]),
            ("fit", ["cover", "contain", "stretch"]),
            ("fit_audio", ["extend", "trim", "error"]),
            ("image_position", ["first", "last"]),
            ("public_figure_threshold", ["auto", "low"]),
        ):
            assert _string_branch(p[name])["enum"] == values
    assert _string_branch(_props(s, "GeneratedImage")["model"])["enum"] == cat.models_of_kind("image")
    assert set(_string_branch(_props(s, "GeneratedImage")["ratio"])["enum"]) == image_ratios
    assert _string_branch(_props(s, "Narration")["model"])["enum"] == cat.models_of_kind("speech")
    assert _string_branch(_props(s, "Narration")["voice"])["enum"] == list(cat.VOICES)
    assert _string_branch(_props(s, "Sfx")["model"])["enum"] == cat.models_of_kind("sound")
    assert _string_branch(_props(s, "Dub")["model"])["enum"] == cat.models_of_kind("dub")
    assert _string_branch(_props(s, "Dub")["language"])["enum"] == list(cat.DUB_LANGUAGES)
    out = _props(s, "Output")
    assert _string_branch(out["captions"])["enum"] == ["sidecar", "burn"]
    assert _string_branch(out["engine"])["enum"] == ["ffmpeg", "moviepy"]


def test_the_schema_flags_a_typo_that_validate_explains() -> None:
    schema = json_schema()
    jsonschema.validate(SPEC, schema)
    typo = {**SPEC, "scenes": [{**SPEC["scenes"][0], "model": "gen45"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema)
    for bad in ({"voice": "maya"}, {"ratio": "1280x720"}, {"transition": "dissolve"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**SPEC, "defaults": bad}, schema)
    # vidspec itself still says more than "not one of": the code, and a did-you-mean.
    v = validate_text('version: 1\nscenes:\n  - id: one\n    prompt: "x"\n    model: gen45\n')
    (d,) = [d for d in v.diagnostics if d.severity == "error"]
    assert d.code == "VS201" and "gen4.5" in (d.hint or "")


def test_a_retired_model_is_still_in_the_enum() -> None:
    # A warning (VS208) in vidspec, so an editor must not mark it as an error.
    assert "gen4_aleph" in _string_branch(_props(json_schema(), "Scene")["model"])["enum"]


@pytest.mark.parametrize(
    ("text", "file"),
    [
        ('{"$schema": "../schemas/vidspec.schema.json", "version": 1, "scenes": [{"id": "a", "prompt": "x"}]}',
         "film.json"),
        ('# a comment\n"$schema": ../schemas/vidspec.schema.json\nversion: 1\nscenes:\n  - {id: a, prompt: x}\n',
         "film.yaml"),
    ],
)  # fmt: skip
def test_a_spec_may_name_its_schema(text: str, file: str) -> None:
    v = validate_text(text, file)
    assert v.ok, [(d.code, d.message) for d in v.diagnostics]
    jsonschema.validate({"$schema": "../schemas/vidspec.schema.json", **SPEC}, json_schema())


def test_schema_must_be_a_string() -> None:
    v = validate_text('{"$schema": 3, "version": 1, "scenes": [{"id": "a", "prompt": "x"}]}', "film.json")
    codes = [(d.code, d.path, d.line) for d in v.diagnostics]
    assert codes == [("VS102", ("$schema",), 1)]
