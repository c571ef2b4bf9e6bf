"""The timeline builder: graph + cached outputs -> what the stitcher cuts, in the spec's scene order, with
narration (or its dub), sound cues and music. Plain data: no ffmpeg, no network."""

from __future__ import annotations

import shutil
from pathlib import Path

from vidspec.core.graph import Graph
from vidspec.core.hashing import file_sha256
from vidspec.core.validate import validate_file
from vidspec.media.timeline import SfxCue, build_timeline, output_ratio

ASSETS = Path(__file__).resolve().parents[2] / "examples" / "assets"

SPEC = """
version: 1
output: {fps: 30, preset: slow}
music: {path: music.mp3, volume: 0.4, fade_in: 0.5, fade_out: 1.5, duck: 0.2}
defaults: {ratio: "720:1280"}
scenes:
  - id: harbour
    prompt: "Fishing boats leave the harbour at dawn, tracking shot"
    narration: "Every morning starts here."
    sfx: {prompt: "gulls and halyards", at: 1.5, volume: 0.8}
  - id: market
    duration: 4
    prompt: "A fish market opens, crates of ice, handheld"
    transition: crossfade
    transition_duration: 0.75
    fit: contain
    keep_audio: false
  - id: kitchen
    prompt: "A cook plates grilled fish, steam rising, slow push-in"
    narration: {text: "And ends here.", voice: Arjun}
    narration_offset: 0.5
    fit_audio: trim
    sfx: "sizzling pan"
"""


def graph_for(tmp_path: Path, text: str = SPEC) -> Graph:
    shutil.copy(ASSETS / "music.mp3", tmp_path / "music.mp3")
    spec = tmp_path / "film.yaml"
    spec.write_text(text, "utf-8")
    v = validate_file(spec)
    assert v.ok and v.graph is not None, [d.message for d in v.diagnostics]
    return v.graph


def outputs(graph: Graph, tmp_path: Path) -> tuple[dict[str, Path], dict[str, str]]:
    paths = {a.name: tmp_path / "cache" / f"{a.name}.out" for a in graph.assets}
    keys = {a.name: f"sha256:{i:064x}" for i, a in enumerate(graph.assets)}
    return paths, keys


def test_scenes_follow_the_spec_with_their_narration_and_cues(tmp_path: Path) -> None:
    g = graph_for(tmp_path)
    paths, keys = outputs(g, tmp_path)
    t = build_timeline(g, paths, keys, tmp_path / "film.mp4")
    assert [c.scene_id for c in t.scenes] == ["harbour", "market", "kitchen"]
    harbour, market, kitchen = t.scenes
    assert harbour.video == paths["harbour.video"] and harbour.duration == 5.0
    assert harbour.narration == paths["harbour.narration"]
    assert harbour.narration_text == "Every morning starts here."
    assert harbour.sfx == (SfxCue(paths["harbour.sfx"], 1.5, 0.8),)
    assert harbour.keys == {k: keys[f"harbour.{k}"] for k in ("video", "narration", "sfx")}
    assert (harbour.transition, harbour.fit, harbour.keep_audio) == ("cut", "cover", True)
    assert (market.narration, market.narration_text, market.sfx) == (None, None, ())
    assert (market.duration, market.transition, market.transition_duration) == (4.0, "crossfade", 0.75)
    assert (market.fit, market.keep_audio) == ("contain", False)
    assert kitchen.narration_text == "And ends here."
    assert (kitchen.narration_offset, kitchen.fit_audio) == (0.5, "trim")
    assert kitchen.sfx == (
        SfxCue(paths["kitchen.sfx"], 0.0, 1.0),
    )  # a bare prompt: at the start, full volume


def test_the_frame_music_and_encoding_come_from_the_project(tmp_path: Path) -> None:
    g = graph_for(tmp_path)
    paths, keys = outputs(g, tmp_path)
    t = build_timeline(g, paths, keys, tmp_path / "film.mp4")
    assert output_ratio(g) == "720:1280"  # no output.ratio: the first video's
    assert (t.width, t.height, t.fps, t.preset, t.output) == (720, 1280, 30, "slow", tmp_path / "film.mp4")
    assert t.music is not None
    music = (tmp_path / "music.mp3").resolve()
    assert (t.music.path, t.music.volume, t.music.fade_in, t.music.fade_out) == (music, 0.4, 0.5, 1.5)
    assert t.music.duck == 0.2
    assert t.music.key == "sha256:" + file_sha256(music)
    assert build_timeline(g, paths, keys, tmp_path / "f.mp4", preset="veryfast").preset == "veryfast"


def test_a_dub_replaces_the_narration_and_reordering_scenes_reorders_the_cut(tmp_path: Path) -> None:
    text = SPEC.replace("version: 1\n", "version: 1\ndub: {language: fr}\n").replace(
        "duck: 0.2", "duck: false"
    )
    scenes = text.split("\n  - ")
    text = "\n  - ".join([scenes[0], scenes[3], scenes[1], scenes[2]]) + "\n"
    text = text.replace(
        "output: {fps: 30, preset: slow}", 'output: {fps: 30, preset: slow, ratio: "1080:1920"}'
    )
    g = graph_for(tmp_path, text)
    paths, keys = outputs(g, tmp_path)
    t = build_timeline(g, paths, keys, tmp_path / "film.mp4")
    assert [c.scene_id for c in t.scenes] == ["kitchen", "harbour", "market"]
    kitchen = t.scenes[0]
    assert kitchen.narration == paths["kitchen.dub"]
    assert kitchen.narration_text == "And ends here."  # the captions keep the spec's words
    assert set(kitchen.keys) == {"video", "narration", "dub", "sfx"}
    assert (t.width, t.height) == (1080, 1920)
    assert t.music is not None and t.music.duck is None
