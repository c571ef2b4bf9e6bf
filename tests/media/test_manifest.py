"""The stitch manifest without encoding anything: input identities, the digest, up-to-date detection,
publishing a render and clearing dead runs' temp dirs. No ffmpeg is run."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from vidspec.errors import StitchError
from vidspec.media.captions import Cue
from vidspec.media.placement import ScenePlacement, plan_scenes
from vidspec.media.stitch.manifest import (
    ENGINE_VERSION,
    StitchResult,
    digest_of,
    manifest_inputs,
    publish,
    sidecar_paths,
    up_to_date,
    work_dir,
)
from vidspec.media.timeline import Music, SceneCut, SfxCue, Timeline


def _files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("a.mp4", "b.mp4", "n.wav", "s.wav", "m.wav"):
        out[name] = tmp_path / "in" / name
        out[name].parent.mkdir(exist_ok=True)
        out[name].write_bytes(name.encode())
    return out


def _tl(tmp_path: Path, f: dict[str, Path], **kw: object) -> Timeline:
    scenes = (
        SceneCut(
            "a", f["a.mp4"], 2.0, narration=f["n.wav"], narration_text="Hello.", keys={"video": "key-a"}
        ),
        SceneCut("b", f["b.mp4"], 2.0, transition="crossfade", sfx=(SfxCue(f["s.wav"], at=0.5),)),
    )
    return Timeline(
        scenes, tmp_path / "out" / "film.mp4", 320, 180, music=Music(f["m.wav"], key="key-m"), **kw
    )  # type: ignore[arg-type]


def _publish(tl: Timeline, digest: str, cues: list[Cue]) -> StitchResult:
    places: list[ScenePlacement] = plan_scenes(tl, [2.0, 2.0], [1.0, None])
    tmp = work_dir(tl.output)
    rendered = tmp / "render.mp4"
    rendered.write_bytes(b"not really an mp4")
    return publish(
        rendered, tl.output, digest=digest, inputs={}, places=places, cues=cues, total=3.5, fast_path=False
    )


def test_inputs_are_cache_keys_else_content_hashes(tmp_path: Path) -> None:
    f = _files(tmp_path)
    inputs = manifest_inputs(_tl(tmp_path, f))
    a, b = inputs["scenes"]
    assert a["video"] == "key-a" and a["narration"].startswith("sha256:")
    assert b["video"].startswith("sha256:") and b["video"] != a["narration"]
    assert b["sfx"] == [{"at": 0.5, "volume": 1.0, "input": b["sfx"][0]["input"]}]
    assert inputs["music"]["input"] == "key-m"
    assert inputs["engine"] == ENGINE_VERSION and inputs["renderer"] == "ffmpeg"
    # a single sfx cue takes the scene's "sfx" key; a voice its "dub" key over its "narration" key
    tl = _tl(tmp_path, f)
    keyed_a = replace(tl.scenes[0], keys={"dub": "key-d", "narration": "key-n"})
    keyed_b = replace(tl.scenes[1], keys={"sfx": "key-s"}, narration=f["n.wav"])  # no voice key: hashed
    again = manifest_inputs(replace(tl, scenes=(keyed_a, keyed_b)))
    assert again["scenes"][0]["narration"] == "key-d"
    assert again["scenes"][1]["sfx"][0]["input"] == "key-s"
    assert again["scenes"][1]["narration"].startswith("sha256:")


def test_a_missing_unkeyed_input_is_a_stitch_error(tmp_path: Path) -> None:
    f = _files(tmp_path)
    f["b.mp4"].unlink()
    with pytest.raises(StitchError, match="input file not found"):
        manifest_inputs(_tl(tmp_path, f))


def test_the_digest_ignores_paths_and_scene_ids_but_not_content_or_settings(tmp_path: Path) -> None:
    f = _files(tmp_path)
    tl = _tl(tmp_path, f)
    base = digest_of(manifest_inputs(tl))
    assert base.startswith("sha256:")
    moved = replace(
        tl, output=tmp_path / "elsewhere.mp4", scenes=(replace(tl.scenes[0], scene_id="x"), tl.scenes[1])
    )
    assert digest_of(manifest_inputs(moved)) == base
    assert digest_of(manifest_inputs(replace(tl, crf=23))) != base
    assert digest_of(manifest_inputs(replace(tl, engine="moviepy"))) != base
    f["b.mp4"].write_bytes(b"other content")
    assert digest_of(manifest_inputs(tl)) != base


def test_a_published_output_is_up_to_date_until_anything_changes(tmp_path: Path) -> None:
    tl = _tl(tmp_path, _files(tmp_path))
    cues = [Cue(0.0, 1.0, "Hello.")]
    first = _publish(tl, "sha256:one", cues)
    srt, vtt, manifest = sidecar_paths(tl.output)
    assert (first.path, first.srt, first.vtt, first.manifest) == (tl.output, srt, vtt, manifest)
    assert not first.skipped and tl.output.read_bytes() == b"not really an mp4"
    assert "Hello." in srt.read_text() and vtt.read_text().startswith("WEBVTT")
    record = json.loads(manifest.read_text())
    assert record["digest"] == "sha256:one" and len(record["result"]["scenes"]) == 2
    # only the published files are left beside the output (the temp dir is the caller's to remove)
    assert {p.name for p in tl.output.parent.iterdir() if not p.name.startswith(".")} == {
        "film.mp4", "film.srt", "film.vtt", "film.mp4.manifest.json",
    }  # fmt: skip

    done = up_to_date(tl.output, "sha256:one")
    assert done is not None and done.skipped and not done.fast_path
    assert (done.duration, done.cues) == (3.5, tuple(cues))
    assert up_to_date(tl.output, "sha256:two") is None  # other inputs or settings

    os.utime(tl.output, ns=(0, 0))  # the output touched behind the manifest's back
    assert up_to_date(tl.output, "sha256:one") is None


@pytest.mark.parametrize("damage", ["no srt", "no vtt", "no manifest", "bad json", "old format"])
def test_a_missing_or_unreadable_piece_means_stitch_again(tmp_path: Path, damage: str) -> None:
    tl = _tl(tmp_path, _files(tmp_path))
    _publish(tl, "sha256:one", [])
    srt, vtt, manifest = sidecar_paths(tl.output)
    if damage == "no srt":
        srt.unlink()
    elif damage == "no vtt":
        vtt.unlink()
    elif damage == "no manifest":
        manifest.unlink()
    elif damage == "bad json":
        manifest.write_text("{")
    else:
        manifest.write_text(json.dumps({"digest": "sha256:one", "result": {"duration": 1.0}}))
    assert up_to_date(tl.output, "sha256:one") is None


def test_work_dir_clears_dead_runs_only(tmp_path: Path) -> None:
    output = tmp_path / "out" / "film [1].mp4"  # glob characters in the name
    output.parent.mkdir()
    dead = output.parent / f".{output.name}.stitch-{2**22 + 1}-abc"  # above Linux's pid_max: never alive
    live = output.parent / f".{output.name}.stitch-{os.getpid()}-abc"
    other = output.parent / ".other.mp4.stitch-1-abc"
    for d in (dead, live, other):
        d.mkdir()
    fresh = work_dir(output)
    assert fresh.parent == output.parent and fresh.name.startswith(f".{output.name}.stitch-{os.getpid()}-")
    assert not dead.exists() and live.is_dir() and other.is_dir() and fresh.is_dir()
