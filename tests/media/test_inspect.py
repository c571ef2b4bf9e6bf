"""Item 7: an image input must decode and a video input must hold a video stream; magic bytes are not enough.

The inspection lives in the media layer (Pillow, the mp4 box parser) and is injected into validation by the app,
so `vidspec validate`, `plan` and `build` all use it."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import ff, run
from vidspec.media.inspect import inspect_media

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "examples" / "assets"
PROMPT = "A lighthouse at dusk, slow pan across the rocks"


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), (200, 150, 20)).save(buf, "PNG")
    return buf.getvalue()


FAKE_PNG = b"\x89PNG\r\n\x1a\n" + b"this is plain text pretending to be an image\n" * 20
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"just some words after a JPEG marker\n" * 20
FAKE_WEBP = b"RIFF\x00\x01\x00\x00WEBP" + b"VP8 and then nothing real\n" * 20
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"text after an ftyp box\n" * 20


@pytest.fixture(scope="module")
def audio_only_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "voice.mp4"
    ff("-f", "lavfi", "-i", "sine=f=440:d=3.5", "-c:a", "aac", str(path))
    return path


def test_real_media_passes() -> None:
    for name in ("bowl.jpg", "logo.png", "skyline.webp"):
        assert inspect_media("image", ASSETS / name) is None, name
        assert inspect_media("image", (ASSETS / name).read_bytes()) is None, name
    for name in ("street.mp4", "performance.mp4"):
        assert inspect_media("video", ASSETS / name) is None, name


@pytest.mark.parametrize(
    "data", [FAKE_PNG, FAKE_JPEG, FAKE_WEBP, _png_bytes()[:60]], ids=["png", "jpeg", "webp", "cut"]
)
def test_an_image_that_does_not_decode_is_reported(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.img"
    path.write_bytes(data)
    problem = inspect_media("image", path)
    assert problem is not None and "not a readable image" in problem
    assert inspect_media("image", data) == problem


def test_a_video_stream_that_does_not_decode_is_reported(tmp_path: Path) -> None:
    # The example footage with its mdat payload zeroed: the boxes (and the `vide` track) are intact.
    data = bytearray((ASSETS / "market-footage.mp4").read_bytes())
    at = data.index(b"mdat")
    data[at + 4 :] = bytes(len(data) - at - 4)
    path = tmp_path / "broken.mp4"
    path.write_bytes(bytes(data))
    problem = inspect_media("video", path)
    assert problem is not None and problem.startswith("has a video stream that does not decode"), problem
    assert inspect_media("video", ASSETS / "market-footage.mp4") is None


def test_a_video_without_a_video_stream_is_reported(tmp_path: Path, audio_only_mp4: Path) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(FAKE_MP4)
    assert inspect_media("video", path) == "has no video stream"
    assert inspect_media("video", audio_only_mp4) == "has no video stream"
    assert inspect_media("video", FAKE_MP4) == "has no video stream"


@pytest.mark.parametrize("command", ["validate", "plan", "build", "storyboard"])
def test_the_cli_refuses_media_that_does_not_decode(
    tmp_path: Path, command: str, audio_only_mp4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "frame.png").write_bytes(FAKE_PNG)
    shutil.copy(audio_only_mp4, tmp_path / "perf.mp4")
    spec = tmp_path / "film.yaml"
    spec.write_text(
        f'version: 1\nscenes:\n  - id: one\n    image: frame.png\n    prompt: "{PROMPT}"\n'
        '  - id: two\n    model: act_two\n    ratio: "960:960"\n    character: frame.png\n'
        "    performance: perf.mp4\n",
        "utf-8",
    )
    args = [command, str(spec)]
    if command == "build":
        args += ["--backend", "preview", "--json", "--no-stitch"]
    code, out, err = run(args, capsys)
    text = out + err
    assert code == 1, text
    assert "film.yaml:4:12: error[VS314]: image frame.png is not a readable image" in text, text
    assert "film.yaml:9:16: error[VS314]: character frame.png is not a readable image" in text, text
    assert "film.yaml:10:18: error[VS314]: performance perf.mp4 has no video stream" in text, text


def test_validate_stays_light_without_inputs(tmp_path: Path) -> None:
    # A spec without image inputs never loads Pillow: `vidspec validate` stays quick to start.
    spec = tmp_path / "film.yaml"
    spec.write_text(f'version: 1\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n', "utf-8")
    code = (
        "import sys\nfrom vidspec.app.cli import exit_status\n"
        f"assert exit_status(['validate', {str(spec)!r}]) == 0\n"
        "heavy = sorted(m for m in ('PIL', 'moviepy', 'numpy', 'httpx') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
