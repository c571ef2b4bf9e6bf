"""Your own footage beside generated clips, and several final cuts from one spec (issue 12), end to end against
the fake Runway API: creates counted, frames counted in the final cut, the footage's sound measured."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import copy_examples, ff, run, summary
from vidspec.media.probe import ffmpeg_exe, mean_volume_db, probe
from vidspec.testing import FakeRunway

pytestmark = pytest.mark.slow  # end-to-end: real media, a fake server

FAST = ["--backend", "runway", "--yes", "--json", "--poll-scale", "0.02"]
FPS = 24
W, H = 320, 180


def frame_count(path: Path) -> int:
    """Video frames in a file: one framecrc line per packet (stream-copied, no decode)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(1 for line in out.splitlines() if line and not line.startswith("#"))


def frames(path: Path, first: int, count: int, fps: float) -> np.ndarray:
    """Decoded frames [first, first + count) of a file at its own rate, as (count, H, W, 3) RGB."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-vf",
         f"select='between(n\\,{first}\\,{first + count - 1})',scale={W}:{H}", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3).astype(np.int16)


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of 30 fps test pattern (moving, so neighbouring frames differ) with a 440 Hz tone."""
    path = tmp_path_factory.mktemp("footage") / "footage.mp4"
    ff("-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=30:duration=3",
       "-f", "lavfi", "-i", "sine=f=440:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
       "-c:a", "aac", "-shortest", str(path))  # fmt: skip
    return path


FOOTAGE_SPEC = """\
version: 1
name: mixed
output: {{ratio: "{w}:{h}", preset: ultrafast}}
scenes:
  - id: harbour
    prompt: "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
    duration: 2
  - id: ours
    clip: footage.mp4
    trim: [0.5, 1.75]
    keep_audio: {keep}
"""


def test_footage_is_free_cut_to_the_frame_and_keeps_or_drops_its_sound(
    fake_runway: FakeRunway, footage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "footage.mp4").write_bytes(footage.read_bytes())
    spec = tmp_path / "mixed.yaml"
    spec.write_text(FOOTAGE_SPEC.format(w=W, h=H, keep="true"), "utf-8")
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    assert fake_runway.create_count() == 1  # the generated scene only: footage never goes to Runway
    assert [b.get("promptText") for _, b, _ in fake_runway.creates] == [
        "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
    ]
    assert s["credits_charged"] == 24 and s["failed"] == []
    cut = Path(s["output"])
    # 2 s of the generated clip, then 1.25 s of footage: 48 + 30 frames at 24 fps, exactly.
    assert frame_count(cut) == 2 * FPS + 30
    # The footage's first frame in the cut is the source's frame at 0.5 s (frame 15 of 30 fps), not its
    # neighbour: the trim lands on the frame.
    shown = frames(cut, 2 * FPS, 1, FPS)[0]
    source = frames(footage, 14, 3, 30)
    diffs = [float(np.abs(shown - f).mean()) for f in source]
    assert diffs.index(min(diffs)) == 1 and diffs[1] < 3, diffs  # measured: 1.2 vs 5.1 and 5.3
    # Its own sound is in the cut where the footage plays, and nowhere before it.
    assert mean_volume_db(cut, 2.1, 1.0) > -35
    assert mean_volume_db(cut, 0.2, 1.5) < -80

    # keep_audio: false drops it, and changes no asset: nothing is created or cut again.
    fake_runway.reset_counters()
    spec.write_text(FOOTAGE_SPEC.format(w=W, h=H, keep="false"), "utf-8")
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    assert fake_runway.create_count() == 0 and s["generated"] == 0 and s["cached"] == 2
    assert frame_count(cut) == 2 * FPS + 30
    assert mean_volume_db(cut, 2.1, 1.0) < -80

    # A new trim is a new cut of the same file, still free.
    spec.write_text(FOOTAGE_SPEC.format(w=W, h=H, keep="false").replace("[0.5, 1.75]", "[0, 1]"), "utf-8")
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 0, err
    assert fake_runway.create_count() == 0 and summary(out)["generated"] == 1
    assert frame_count(cut) == 2 * FPS + FPS


OUTPUTS_SPEC = """\
version: 1
name: both
outputs:
  - {path: build/wide.mp4, ratio: "320:180", preset: ultrafast}
  - {path: build/tall.mp4, ratio: "180:320", fit: contain, preset: ultrafast}
scenes:
  - id: harbour
    prompt: "Fishing boats rock in a quiet harbour at dawn, slow aerial dolly"
    duration: 2
  - id: market
    prompt: "A fishmonger lays fresh catch on crushed ice, handheld close-up"
    duration: 3
    transition: crossfade
    ratio_overrides:
      "180:320": {ratio: "720:1280", prompt: "A fishmonger seen from above, tall framing"}
"""


def test_two_outputs_from_one_set_of_assets(
    fake_runway: FakeRunway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "both.yaml"
    spec.write_text(OUTPUTS_SPEC, "utf-8")
    code, out, _ = run(["plan", str(spec), "--json"], capsys)
    assert code == 0
    plan = json.loads(out)
    assert plan["total_credits"] == 24 + 36 + 36  # the override's native clip is priced too
    assert plan["outputs"] == [
        {"path": "build/wide.mp4", "ratio": "320:180", "fit": None},
        {"path": "build/tall.mp4", "ratio": "180:320", "fit": "contain"},
    ]
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    # Two clips for both cuts, plus the market's native 9:16 clip for the tall one: 3 creates, not 5.
    assert fake_runway.create_count() == 3
    ratios = sorted(b["ratio"] for _, b, _ in fake_runway.creates)
    assert ratios == ["1280:720", "1280:720", "720:1280"]
    wide, tall = tmp_path / "build" / "wide.mp4", tmp_path / "build" / "tall.mp4"
    assert s["outputs"] == [str(wide), str(tall)] and s["outputs_stitched"] == [True, True]
    assert (probe(wide).width, probe(wide).height) == (320, 180)
    assert (probe(tall).width, probe(tall).height) == (180, 320)
    # Same timeline in both: 2 + 3 s less the 0.5 s crossfade, to the frame.
    assert frame_count(wide) == frame_count(tall) == round(4.5 * FPS)
    for cut in (wide, tall):
        assert cut.with_suffix(".srt").is_file()
    # Nothing to make the second time; both cuts are up to date.
    fake_runway.reset_counters()
    code, out, err = run(["build", str(spec), *FAST], capsys)
    assert code == 0, err
    s = summary(out)
    assert fake_runway.create_count() == 0 and s["cached"] == 3
    assert s["outputs_stitched"] == [False, False]


def test_the_creative_control_example_renders_with_the_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_examples(tmp_path / "ex")
    spec = tmp_path / "ex" / "creative-control.yaml"
    code, out, err = run(["build", str(spec), "--json"], capsys)  # no key: the free preview
    assert code == 0, err
    s = summary(out)
    assert s["backend"] == "preview" and s["failed"] == []
    wide, tall = (Path(p) for p in s["outputs"])
    assert (
        wide.name == "creative-control.preview.mp4" and tall.name == "creative-control-vertical.preview.mp4"
    )
    assert (probe(wide).width, probe(wide).height) == (1280, 720)
    assert (probe(tall).width, probe(tall).height) == (720, 1280)
    # 4 + 2.5 + 4 s, two 0.5 s crossfades
    assert frame_count(wide) == frame_count(tall) == round(9.5 * FPS)
