"""The asset graph from a small spec: which assets, in dependency order, with their fields in vidspec's words
and their inputs typed (a file or URL, or another asset), each with its media kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vidspec.core import catalog as cat
from vidspec.core.graph import Asset, AssetRef, FileRef, Graph, Reference
from vidspec.core.validate import validate_file

ASSETS = Path(__file__).resolve().parents[2] / "examples" / "assets"

SPEC = """
version: 1
dub: {language: fr}
scenes:
  - id: jar
    model: gen4_turbo
    image:
      prompt: "A jar on slate, @brand label"
      ratio: "1280:720"
      seed: 3
      references: [{path: logo.png, tag: brand}, {path: "https://example.com/x.png"}]
    prompt: "Slow push toward the jar"
    public_figure_threshold: low
    narration: {text: "Sambal, since 1968.", voice: Arjun}
  - id: night
    model: veo3.1
    duration: 8
    image: skyline.webp
    image_position: last
    audio: false
    seed: 11
    prompt: "Night falls over the market"
    sfx: {prompt: "crackling charcoal", duration: 3, loop: true}
  - id: paint
    model: aleph2
    video: street.mp4
    prompt: "Repaint the street as a watercolour"
    references: [{path: logo.png}]
  - id: act
    model: act_two
    character: bowl.jpg
    performance: performance.mp4
  - id: url
    model: veo3.1_fast
    duration: 4
    image: "https://example.com/pic.jpg"
"""


@pytest.fixture
def graph(tmp_path: Path) -> Graph:
    for name in ("logo.png", "skyline.webp", "street.mp4", "bowl.jpg", "performance.mp4"):
        shutil.copy(ASSETS / name, tmp_path / name)
    spec = tmp_path / "film.yaml"
    spec.write_text(SPEC, "utf-8")
    v = validate_file(spec)
    assert v.ok and v.graph is not None, [d.message for d in v.diagnostics]
    return v.graph


def test_assets_come_in_dependency_order(graph: Graph) -> None:
    assert [a.name for a in graph.assets] == [
        "jar.image", "jar.video", "jar.narration", "jar.dub",
        "night.video", "night.sfx", "paint.video", "act.video", "url.video",
    ]  # fmt: skip
    seen: set[str] = set()
    for asset in graph.assets:
        assert set(asset.deps) <= seen, asset.name
        seen.add(asset.name)
    assert [a.name for a in graph.for_scene("jar")] == ["jar.image", "jar.video", "jar.narration", "jar.dub"]


def test_a_generated_image_and_the_video_that_starts_from_it(graph: Graph, tmp_path: Path) -> None:
    by = graph.by_name()
    image, video = by["jar.image"], by["jar.video"]
    assert (image.kind, image.row.endpoint, image.media) == ("image", "text_to_image", "image")
    assert (image.prompt, image.ratio, image.seed, image.seconds) == (
        "A jar on slate, @brand label",
        "1280:720",
        3,
        None,
    )
    assert image.public_figure_threshold == "low"
    assert image.references == (
        Reference(FileRef("image", path=tmp_path / "logo.png"), "brand"),
        Reference(FileRef("image", url="https://example.com/x.png")),
    )
    assert video.image == AssetRef("jar.image", "image")
    assert video.deps == ("jar.image",)
    assert (video.prompt, video.ratio, video.duration, video.seconds) == (
        "Slow push toward the jar",
        "1280:720",
        5,
        5.0,
    )
    assert type(video.duration) is int  # the API takes whole seconds
    assert video.audio is None  # gen4_turbo has no audio switch: nothing is sent
    assert image.files() == [tmp_path / "logo.png"]  # the URL is not a local file
    assert video.files() == []


def test_narration_and_its_dub(graph: Graph) -> None:
    by = graph.by_name()
    narration, dub = by["jar.narration"], by["jar.dub"]
    assert (narration.prompt, narration.voice, narration.media) == ("Sambal, since 1968.", "Arjun", "audio")
    assert dub.narration == AssetRef("jar.narration", "audio")
    assert (dub.language, dub.deps, dub.seconds) == ("fr", ("jar.narration",), narration.seconds)
    assert dub.request_fields() == {"language": "fr", "narration": AssetRef("jar.narration", "audio")}


def test_a_local_frame_a_sound_and_unset_fields(graph: Graph, tmp_path: Path) -> None:
    by = graph.by_name()
    video, sfx = by["night.video"], by["night.sfx"]
    assert video.image == FileRef("image", path=tmp_path / "skyline.webp")
    assert (video.image_position, video.audio, video.seed, video.duration) == ("last", False, 11, 8)
    assert video.public_figure_threshold is None  # Veo has no moderation setting
    assert video.deps == ()
    assert (sfx.prompt, sfx.duration, sfx.loop) == ("crackling charcoal", 3.0, True)
    assert set(sfx.request_fields()) == {"prompt", "duration", "loop"}


def test_video_to_video_and_character_performance_inputs(graph: Graph, tmp_path: Path) -> None:
    by = graph.by_name()
    paint, act = by["paint.video"], by["act.video"]
    assert paint.row.endpoint == "video_to_video"
    assert paint.video == FileRef("video", path=tmp_path / "street.mp4")
    assert paint.references == (Reference(FileRef("image", path=tmp_path / "logo.png")),)
    assert (paint.ratio, paint.duration) == (None, None)  # aleph2 keeps the input's size and length
    assert act.character == FileRef("image", path=tmp_path / "bowl.jpg")  # the kind from the file itself
    assert act.performance == FileRef("video", path=tmp_path / "performance.mp4")
    assert act.prompt is None
    assert act.inputs() == [("character", act.character), ("performance", act.performance)]
    assert act.files() == [tmp_path / "bowl.jpg", tmp_path / "performance.mp4"]


def test_a_url_input_keeps_its_url(graph: Graph) -> None:
    video = graph.by_name()["url.video"]
    assert video.image == FileRef("image", url="https://example.com/pic.jpg")
    assert video.files() == []
    assert video.audio is True  # Veo: always sent


def test_the_walker_sees_every_input_once_with_its_field() -> None:
    row = cat.row("gen4_image", "text_to_image")
    assert row is not None
    refs = (
        Reference(FileRef("image", path=Path("/a.png")), "one"),
        Reference(FileRef("image", url="https://x")),
    )
    asset = Asset("s.image", "s", 0, "image", row, 5, None, prompt="p", ratio="1280:720", references=refs)
    assert asset.inputs() == [("references", refs[0].ref), ("references", refs[1].ref)]
    assert asset.files() == [Path("/a.png")]


def test_an_inputs_media_kind_comes_from_its_ref_not_the_asset_name() -> None:
    row = cat.row("eleven_voice_dubbing", "voice_dubbing")
    assert row is not None
    dub = Asset(
        "x.image", "x", 0, "dub", row, 1, 2.0, narration=AssetRef("voice.over", "audio"), language="fr"
    )
    assert dub.inputs() == [("narration", AssetRef("voice.over", "audio"))]
    assert dub.deps == ("voice.over",)
