"""`vidspec export`: the example's cut written as .otio, .fcpxml and .edl, read back with OpenTimelineIO, and
as long as the stitched film to a frame; media referenced from the cache or copied beside the timeline."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import imageio_ffmpeg
import opentimelineio as otio
import pytest

from tests.helpers import copy_examples, run

FPS = 24


def _export(capsys: pytest.CaptureFixture[str], spec: Path, *args: str) -> dict[str, Any]:
    code, out, err = run(["export", str(spec), "--backend", "preview", "--json", *args], capsys)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def _file(url: str, base: Path) -> Path:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else base / url


def _clips(track: Any) -> list[Any]:
    return [c for c in track if isinstance(c, otio.schema.Clip)]


@pytest.fixture
def built(hawker_preview: tuple[Path, Path]) -> tuple[Path, Path]:
    return hawker_preview


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["otio", "fcpxml", "edl"])
def test_each_format_reads_back_as_long_as_the_film(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    spec, film = built
    res = _export(capsys, spec, "--format", fmt)
    path = Path(res["path"])
    assert path == film.with_suffix(f".{fmt}") and path.is_file()
    film_frames = imageio_ffmpeg.count_frames_and_secs(str(film))[0]  # decoded: every frame counted
    assert res["frames"] == film_frames  # 19 s: 4 x 5 s, two 0.5 s crossfades
    back = otio.adapters.read_from_file(str(path))
    assert abs(back.duration().to_frames() - film_frames) <= 1, (fmt, back.duration())
    picture = back.video_tracks()
    assert len(picture) == 1
    assert abs(picture[0].duration().to_frames() - film_frames) <= 1
    names = [c.name for c in _clips(picture[0])]
    assert [n.split()[0] for n in names] == ["opening", "bowl", "jar", "closing"], names
    for clip in _clips(picture[0]):
        assert _file(clip.media_reference.target_url, path.parent).is_file()  # the cached clip itself
    dissolves = [t for t in picture[0] if isinstance(t, otio.schema.Transition)]
    if fmt == "fcpxml":  # OTIO's FCPX reader skips <transition>: read the XML for them and the gains
        assert dissolves == []
        xml = ET.parse(path).getroot()
        spine = xml.find(".//sequence/spine")
        assert spine is not None
        found = [(t.get("offset"), t.get("duration")) for t in spine.iter("transition")]
        assert found == [("9/2s", "1/2s"), ("9s", "1/2s")]  # centred on the cuts at 4.75 s and 9.25 s
        assert xml.find(".//effect[@name='Cross Dissolve']") is not None
        volumes = {c.get("name"): c.find("adjust-volume") for c in spine.iter("clip") if c.get("lane")}
        assert len(volumes) == 5 and all(v is not None for v in volumes.values())
    else:
        assert len(dissolves) == 2 and all(t.duration().to_frames() == 12 for t in dissolves)
    if fmt == "edl":
        assert back.audio_tracks() == []  # CMX 3600: the picture cut only
        return
    sound = {t.name: t for t in back.audio_tracks()}
    assert len(sound) == 3  # narration, sound effects, music
    lengths = sorted(len(_clips(t)) for t in sound.values())
    assert lengths == [1, 1, 3]  # one music bed (24 s file, 19 s film), one sfx, three narrations
    music = next(t for t in sound.values() if _clips(t)[0].name.startswith("music"))
    assert abs(music.duration().to_frames() - film_frames) <= 1  # the bed runs to the end of the film
    srt = film.with_suffix(".srt").read_text()
    markers = [m for c in _clips(picture[0]) for m in c.markers]
    assert len(markers) == srt.count("-->") and markers[0].name in srt


@pytest.mark.slow
def test_otio_keeps_gains_offsets_and_captions(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, film = built
    back = otio.adapters.read_from_file(_export(capsys, spec)["path"])
    manifest = json.loads(film.with_name(film.name + ".manifest.json").read_text())
    scenes = {s["scene_id"]: s for s in manifest["result"]["scenes"]}
    narration = next(t for t in back.audio_tracks() if t.name == "Narration")
    for clip in _clips(narration):
        scene = clip.metadata["vidspec"]["scene"]
        start = narration.range_of_child(clip).start_time.to_seconds()
        assert abs(start - scenes[scene]["narration"][0]) < 1e-6  # where the film plays it, to the sample
        assert isinstance(clip.metadata["vidspec"]["gain_db"], float)
    music = _clips(next(t for t in back.audio_tracks() if t.name == "Music"))[0]
    meta = music.metadata["vidspec"]
    assert meta["volume"] == 0.5 and meta["fade_out"] == 2 and len(meta["duck_intervals"]) == 3
    assert meta["gain_db"] > 0  # the quiet example music is raised to its level (it sat at -39 LUFS)
    times = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) -->", film.with_suffix(".srt").read_text())
    starts = sorted(int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in times)
    picture = back.video_tracks()[0]
    marked = sorted(
        picture.range_of_child(c).start_time.to_seconds()
        + (mk.marked_range.start_time - c.source_range.start_time).to_seconds()
        for c in _clips(picture)
        for mk in c.markers
    )
    assert marked == pytest.approx(starts, abs=1 / FPS)  # each caption marker where its cue starts


@pytest.mark.slow
def test_copy_media_writes_a_movable_folder(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, film = built
    out = spec.parent / "handoff"
    res = _export(capsys, spec, "--out", str(out), "--copy-media")
    path = Path(res["path"])
    assert path.parent == out.resolve() and res["copied"]
    media = out / f"{film.stem}.media"
    copied = sorted(p.name for p in media.iterdir())
    assert "opening.video.mp4" in copied and "jar.sfx.wav" in copied and len(copied) == len(res["media"]) == 9
    back = otio.adapters.read_from_file(str(path))
    for clip in back.find_clips():
        url = clip.media_reference.target_url
        assert not url.startswith("file:") and (out / url).is_file()  # relative to the timeline
    fcp = _export(capsys, spec, "--out", str(out), "--copy-media", "--format", "fcpxml")
    assert str(media.resolve().as_uri()) in Path(fcp["path"]).read_text()


def test_unbuilt_assets_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = copy_examples(tmp_path / "ex") / "hawker-noodles.yaml"
    code, out, err = run(["export", str(spec), "--backend", "preview"], capsys)
    assert code == 1 and "not built yet (preview)" in err and "vidspec build" in err
    assert not (spec.parent / "build").exists()


def test_outputs_stay_inside_the_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = copy_examples(tmp_path / "ex") / "hawker-noodles.yaml"
    elsewhere = tmp_path / "elsewhere"
    code, _, err = run(["export", str(spec), "--backend", "preview", "--out", str(elsewhere)], capsys)
    assert code == 1 and "outside the project" in err and not elsewhere.exists()


@pytest.mark.slow
def test_every_final_cut_gets_its_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = copy_examples(tmp_path / "ex") / "creative-control.yaml"  # `outputs:` 16:9 and 9:16
    code, _, err = run(["build", str(spec), "--backend", "preview", "--json"], capsys)
    assert code == 0, err
    code, out, err = run(["export", str(spec), "--backend", "preview", "--json"], capsys)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [Path(x["path"]).name for x in lines] == [
        "creative-control.preview.otio",
        "creative-control-vertical.preview.otio",
    ]
    urls = []
    for line in lines:
        film = Path(line["path"]).with_suffix(".mp4")
        back = otio.adapters.read_from_file(line["path"])
        assert back.duration().to_frames() == imageio_ffmpeg.count_frames_and_secs(str(film))[0]
        urls.append([c.media_reference.target_url for c in back.video_tracks()[0].find_clips()])
    assert urls[0] != urls[1]  # each cut takes the clips made for its own frame
