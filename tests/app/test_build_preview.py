"""The free preview backend end to end: a real animatic, checked with ffmpeg-level facts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import copy_examples, run, summary
from vidspec.app.build import choose_backend
from vidspec.media.probe import mean_volume_db, measured_duration, probe
from vidspec.store.cache import Cache

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses or a fake server


@pytest.fixture(scope="module")
def hawker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("hawker")
    copy_examples(root / "ex")
    yield root / "ex" / "hawker-noodles.yaml"


def _srt_times(text: str) -> list[tuple[float, float]]:
    def sec(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [(sec(a), sec(b)) for a, b in re.findall(r"(\S+) --> (\S+)", text)]


def test_preview_build_renders_the_example(hawker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["build", str(hawker), "--json"], capsys)
    assert code == 0, err
    assert "no RUNWAYML_API_SECRET found" in err  # the backend was chosen for the user, and said so
    s = summary(out)
    assert s["backend"] == "preview" and s["generated"] == 9 and s["stitched"]
    output = Path(s["output"])
    assert output.name == "hawker-noodles.preview.mp4"
    info = probe(output)
    assert (info.width, info.height, info.fps) == (1280, 720, 24.0)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and info.audio_codec == "aac"
    # 4 scenes x 5 s, two 0.5 s crossfades overlap, the fade does not: 19 s, within one frame
    assert abs(measured_duration(output) - 19.0) <= 1 / 24 + 1e-6
    # narration plays from 0 s in scene one: loud there
    assert mean_volume_db(output, 0.2, 2.0) > -40


def test_captions_match_the_measured_narration(hawker: Path) -> None:
    srt = hawker.parent / "build" / "hawker-noodles.preview.srt"
    vtt = hawker.parent / "build" / "hawker-noodles.preview.vtt"
    assert vtt.read_text().startswith("WEBVTT")
    cues = _srt_times(srt.read_text())
    store = Cache.for_spec(hawker).store("preview")
    durations = []
    for rec_file in sorted((store.root / "records").rglob("*.json")):
        rec = json.loads(rec_file.read_text())
        if rec["name"] == "opening.narration":
            durations.append(rec["duration"])
    assert len(durations) == 1
    first_start, first_end = cues[0]
    assert first_start == pytest.approx(0.0, abs=0.05)
    assert first_end == pytest.approx(durations[0], abs=0.05)
    assert "Since 1968" in srt.read_text()


def test_second_build_reencodes_nothing(hawker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = hawker.parent / "build" / "hawker-noodles.preview.mp4"
    before = output.stat().st_mtime_ns
    code, out, _ = run(["build", str(hawker), "--json"], capsys)
    s = summary(out)
    assert code == 0 and s["cached"] == 9 and s["generated"] == 0 and s["stitched"] is False
    assert output.stat().st_mtime_ns == before


def test_changed_transition_restitches_without_regenerating(
    hawker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hawker.write_text(hawker.read_text().replace("    transition: fade\n", "    transition: cut\n"))
    code, out, _ = run(["build", str(hawker), "--json"], capsys)
    s = summary(out)
    assert code == 0 and s["generated"] == 0 and s["stitched"] is True
    assert abs(measured_duration(Path(s["output"])) - 19.0) <= 1 / 24 + 1e-6  # a fade did not overlap anyway


def test_preview_assets_never_satisfy_a_runway_build(
    hawker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["plan", "--json", str(hawker)], capsys)
    plan = json.loads(out)
    assert plan["to_spend_credits"] == plan["total_credits"] > 0
    code, out, _ = run(["plan", "--json", "--backend", "preview", str(hawker)], capsys)
    assert json.loads(out)["to_spend_credits"] == 0


def test_storyboard_uses_the_preview_frames(hawker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    code, out, _ = run(["storyboard", str(hawker)], capsys)
    assert code == 0
    png = hawker.parent / "build" / "hawker-noodles.storyboard.png"
    html = hawker.parent / "build" / "hawker-noodles.storyboard.html"
    with Image.open(png) as img:
        assert img.width > 1000 and img.height > 500
    page = html.read_text()
    assert page.count("<tr>") == 5 and "Every bowl tells a story." in page


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_backend("runway") == ("runway", None)
    backend, notice = choose_backend(None)
    assert backend == "preview" and notice is not None and "free local animatic" in notice
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key-not-real")
    assert choose_backend(None) == ("runway", None)


def test_vertical_dubbed_example_with_burned_captions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_examples(tmp_path / "ex")
    code, out, err = run(["build", str(tmp_path / "ex" / "night-market-vertical.yaml"), "--json"], capsys)
    assert code == 0, err
    s = summary(out)
    info = probe(Path(s["output"]))
    assert (info.width, info.height) == (720, 1280)
    # scenes 6 + 4 + 6 s, crossfades 0.5 and 0.75 s
    assert abs(measured_duration(Path(s["output"])) - 14.75) <= 1 / 24 + 1e-6
    assert s["generated"] == 8  # 3 videos, 2 narrations, 2 dubs, 1 sound
