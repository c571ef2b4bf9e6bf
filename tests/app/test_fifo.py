"""Item 6: only regular files are inputs. A FIFO (or a device) given as the spec, an image or the music once
hung validate, plan and build forever on open(); each runs in a subprocess with a timeout, so a regression
fails here instead of hanging the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

PROMPT = "A lighthouse at dusk, slow pan across the rocks"
TIMEOUT = 60  # seconds; the checks take well under one, a hang never ends

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def _vidspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWAYML_", "VIDSPEC_"))}
    try:
        return subprocess.run(
            [sys.executable, "-m", "vidspec", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"vidspec {' '.join(args)} hung on a FIFO (killed after {TIMEOUT} s)")


COMMANDS = [
    ("validate",),
    ("plan",),
    ("build", "--backend", "preview", "--json", "--no-stitch"),
    ("storyboard",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("field", ["image", "music", "character"])
def test_a_fifo_input_is_refused_without_hanging(
    tmp_path: Path, command: tuple[str, ...], field: str
) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    os.mkfifo(tmp_path / "pipe.mp3")
    Image.new("RGB", (32, 32)).save(tmp_path / "real.png")
    if field == "image":
        body = f'scenes:\n  - id: one\n    image: pipe.png\n    prompt: "{PROMPT}"\n'
        where = "film.yaml:4:12:"
    elif field == "music":
        body = f'music: {{path: pipe.mp3}}\nscenes:\n  - id: one\n    prompt: "{PROMPT}"\n'
        where = "film.yaml:2:15:"
    else:
        (tmp_path / "perf.mp4").write_bytes(
            (Path(__file__).parents[2] / "examples/assets/performance.mp4").read_bytes()
        )
        body = (
            'scenes:\n  - id: one\n    model: act_two\n    ratio: "960:960"\n'
            "    character: pipe.png\n    performance: perf.mp4\n"
        )
        where = "film.yaml:6:16:"
    spec = tmp_path / "film.yaml"
    spec.write_text("version: 1\n" + body, "utf-8")
    done = _vidspec(command[0], str(spec), *command[1:], cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"{where} error[VS311]" in output and "not a regular file" in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_fifo_spec_is_refused_without_hanging(tmp_path: Path, command: tuple[str, ...]) -> None:
    os.mkfifo(tmp_path / "film.yaml")
    done = _vidspec(command[0], "film.yaml", *command[1:], cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "film.yaml: error[VS001]" in output and "not a regular file" in output, output


def test_a_character_device_spec_is_refused(tmp_path: Path) -> None:
    # /dev/zero never ends: reading it whole would fill memory.
    done = _vidspec("validate", "/dev/zero", cwd=tmp_path)
    assert done.returncode == 1 and "error[VS001]" in done.stdout + done.stderr
