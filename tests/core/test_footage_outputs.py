"""Footage and several outputs in the pure core: the graph, the keys, the plan's price, the outputs' frames."""

from __future__ import annotations

import shutil
from pathlib import Path

from vidspec.core.keys import FileDigests, graph_keys
from vidspec.core.outputs import project_outputs
from vidspec.core.validate import Validated, validate_file

FOOTAGE = Path(__file__).resolve().parents[2] / "examples" / "assets" / "market-footage.mp4"  # 3.0 s


def _validate(tmp_path: Path, text: str) -> Validated:
    shutil.copy(FOOTAGE, tmp_path / "f.mp4")
    spec = tmp_path / "s.yaml"
    spec.write_text(text, "utf-8")
    return validate_file(spec)


SPEC = """\
version: 1
defaults: {{keep_audio: {keep}, model: gen4.5, duration: 2}}
scenes:
  - id: {id}
    clip: f.mp4
    trim: {trim}
    narration: "Ours."
  - id: gen
    prompt: "A harbour at dawn, slow dolly"
"""


def _keys(tmp_path: Path, **kw: str) -> dict[str, str]:
    fields = {"keep": "true", "id": "ours", "trim": "[0.5, 2]", **kw}
    v = _validate(tmp_path, SPEC.format(**fields))
    assert v.ok and v.graph is not None, list(v.diagnostics)
    keys = graph_keys(v.graph, FileDigests())
    return {name.replace(fields["id"], "ours"): key for name, key in keys.items()}


def test_footage_is_a_free_asset_of_the_trimmed_length(tmp_path: Path) -> None:
    v = _validate(tmp_path, SPEC.format(keep="true", id="ours", trim="[0.5, 2]"))
    assert v.graph is not None
    video = v.graph.by_name()["ours.video"]
    assert video.is_footage and video.credits == 0 and video.seconds == 1.5
    assert video.trim == (0.5, 2.0) and video.video is not None and video.video.path == tmp_path / "f.mp4"
    assert v.graph.total_credits == 24 + 1  # the generated clip and the narration only


def test_footage_key_follows_the_bytes_and_the_trim_only(tmp_path: Path) -> None:
    base = _keys(tmp_path)
    assert _keys(tmp_path, keep="false") == base  # keep_audio is applied when stitching
    assert _keys(tmp_path, id="renamed") == base  # never the scene's id
    assert _keys(tmp_path, trim="[0.5, 2.5]")["ours.video"] != base["ours.video"]
    with (tmp_path / "f.mp4").open("ab") as f:  # _validate copies it again: append after, then key
        f.write(b"\0")
    v = validate_file(tmp_path / "s.yaml")
    assert v.graph is not None
    assert graph_keys(v.graph, FileDigests())["ours.video"] != base["ours.video"]


OUTPUTS = """\
version: 1
name: film
defaults: {fit: contain}
outputs:
  - {ratio: "1280:720"}
  - {ratio: "720:1280", fit: cover}
scenes:
  - id: a
    prompt: "A harbour at dawn, slow dolly"
    duration: 4
    ratio_overrides:
      "720:1280": {prompt: "A harbour at dawn, tall framing"}
  - id: b
    prompt: "Gulls over the water, tracking shot"
    duration: 2
    fit: stretch
"""


def test_a_ratio_override_is_its_own_priced_clip_for_its_frame(tmp_path: Path) -> None:
    v = _validate(tmp_path, OUTPUTS)
    assert v.ok and v.graph is not None, list(v.diagnostics)
    g = v.graph
    native = g.by_name()["a.video@720:1280"]
    assert (native.ratio, native.prompt, native.for_ratio, native.credits) == (
        "720:1280", "A harbour at dawn, tall framing", "720:1280", 48,
    )  # fmt: skip
    assert g.total_credits == 48 + 48 + 24
    assert g.video_for("a", "720:1280") is native
    assert g.video_for("a", "1280:720").name == g.video_for("a").name == "a.video"
    assert g.video_for("b", "720:1280").name == "b.video"


def test_outputs_frames_paths_and_fit(tmp_path: Path) -> None:
    v = _validate(tmp_path, OUTPUTS)
    assert v.project is not None and v.graph is not None
    wide, tall = project_outputs(v.project, v.graph.scenes, "film")
    assert (wide.ratio, wide.path, tall.ratio, tall.path) == (
        "1280:720", "build/film-1280x720.mp4", "720:1280", "build/film-720x1280.mp4",
    )  # fmt: skip
    a, b = v.graph.scenes
    # A scene's own fit wins; then the output's; then defaults.
    assert (wide.fit_for(a), tall.fit_for(a)) == ("contain", "cover")
    assert (wide.fit_for(b), tall.fit_for(b)) == ("stretch", "stretch")


def test_an_api_issue_about_an_override_points_at_the_override(tmp_path: Path) -> None:
    from vidspec.core.blame import spec_path

    v = _validate(tmp_path, OUTPUTS)
    assert v.graph is not None
    native = v.graph.by_name()["a.video@720:1280"]
    assert spec_path(v.graph, native, ["promptText"]) == (
        "scenes",
        0,
        "ratio_overrides",
        "720:1280",
        "prompt",
    )
    assert spec_path(v.graph, native, ["duration"]) == ("scenes", 0, "duration")
    assert spec_path(v.graph, v.graph.by_name()["a.video"], ["promptText"]) == ("scenes", 0, "prompt")


def test_defaults_for_generated_scenes_never_make_a_footage_scene_pay(tmp_path: Path) -> None:
    v = _validate(
        tmp_path,
        "version: 1\n"
        "defaults: {model: veo3.1, duration: 4, seed: 3, image: {prompt: 'A jar of sambal on slate'}}\n"
        "scenes:\n  - id: ours\n    clip: f.mp4\n",
    )
    assert v.ok and v.graph is not None, list(v.diagnostics)
    assert [(a.name, a.credits) for a in v.graph.assets] == [("ours.video", 0)]
    assert v.graph.assets[0].seconds == 3.0


def test_outputs_alone_is_no_vs109_even_when_the_spec_has_other_errors() -> None:
    from vidspec.core.validate import validate_text

    text = "version: 1\noutputs:\n  - {ratio: '1280:720'}\nscenes:\n  - id: a\n    prompt: x\n    bogus: 1\n"
    codes = [d.code for d in validate_text(text).diagnostics]
    assert "VS101" in codes and "VS109" not in codes
    both = validate_text("version: 1\noutput: {fps: 24}\n" + text.split("\n", 1)[1])
    assert "VS109" in [d.code for d in both.diagnostics]
