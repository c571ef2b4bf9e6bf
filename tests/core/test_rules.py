"""Each catalogue rule: the exact code, the path it points at, and the key words of its message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vidspec.core.validate import validate_file
from vidspec.media.probe import ffmpeg_exe

ROOT = Path(__file__).resolve().parents[2]


def diags(tmp_path: Path, body: str) -> list[tuple[str, str, str]]:
    spec = tmp_path / "spec.yaml"
    spec.write_text("version: 1\n" + body, "utf-8")
    return [(d.code, d.path_str, d.message) for d in validate_file(spec).diagnostics.sorted()]


def codes(tmp_path: Path, body: str) -> list[tuple[str, str]]:
    return [(c, p) for c, p, _ in diags(tmp_path, body)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    d = tmp_path_factory.mktemp("clips")
    for name, seconds in (("two.mp4", 2), ("five.mp4", 5)):
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size=160x90:rate=12:duration={seconds}", "-pix_fmt", "yuv420p",
                        str(d / name)], check=True)  # fmt: skip
    return d


def test_big_files_go_through_an_upload(tmp_path: Path) -> None:
    (tmp_path / "big.png").write_bytes(b"\x89PNG" + b"\0" * (6 * 1024 * 1024))
    found = diags(tmp_path, "scenes:\n  - {id: a, image: big.png, prompt: 'Slow push-in on the poster'}\n")
    assert [(c, p) for c, p, _ in found] == [("VS303", "scenes[0].image")]
    assert "ephemeral upload" in found[0][2]


@pytest.mark.parametrize(("mib", "warned"), [(3.5, False), (4.0, True)])
def test_the_upload_warning_follows_the_base64_length(tmp_path: Path, mib: float, warned: bool) -> None:
    # The 5 MB limit is on the data URI, so a 4 MiB image (5.3 MiB in base64) is uploaded and warned about.
    (tmp_path / "mid.png").write_bytes(b"\x89PNG" + b"\0" * (int(mib * 1024 * 1024) - 4))
    found = codes(tmp_path, "scenes:\n  - {id: a, image: mid.png, prompt: 'Slow push-in on the poster'}\n")
    assert found == ([("VS303", "scenes[0].image")] if warned else [])


def test_act_two_performance_length(tmp_path: Path, clips: Path) -> None:
    shutil.copy(clips / "two.mp4", tmp_path / "perf.mp4")
    shutil.copy(ROOT / "examples" / "assets" / "bowl.jpg", tmp_path / "face.jpg")
    body = "scenes:\n  - {id: a, model: act_two, character: face.jpg, performance: perf.mp4}\n"
    assert codes(tmp_path, body) == [("VS307", "scenes[0].performance")]


def test_video_to_video_follows_its_input(tmp_path: Path, clips: Path) -> None:
    shutil.copy(clips / "five.mp4", tmp_path / "in.mp4")
    body = "scenes:\n  - {id: a, model: aleph2, video: in.mp4, prompt: 'Make it snow', duration: 8}\n"
    found = diags(tmp_path, body)
    assert ("VS205", "scenes[0].duration") in [(c, p) for c, p, _ in found]
    assert ("VS210", "scenes[0].model") in [(c, p) for c, p, _ in found]  # aleph2's price is unconfirmed
    url = "scenes:\n  - {id: a, model: gen4_aleph, video: 'https://example.com/in.mp4', prompt: 'Make it snow'}\n"
    assert ("VS306", "scenes[0].video") in codes(tmp_path, url)


def test_options_the_model_does_not_take(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "assets" / "bowl.jpg", tmp_path / "a.jpg")
    body = """scenes:
  - {id: a, prompt: "Waves at dusk, slow pan", audio: false}
  - {id: b, image: a.jpg, prompt: "Steam rises, push-in", image_position: last}
  - {id: c, model: veo3.1, duration: 4, image: a.jpg, image_position: last}
"""
    assert codes(tmp_path, body) == [("VS209", "scenes[0].audio"), ("VS209", "scenes[1].image_position")]


def test_gen45_image_to_video_needs_a_prompt(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "assets" / "bowl.jpg", tmp_path / "a.jpg")
    assert codes(tmp_path, "scenes:\n  - {id: a, image: a.jpg}\n") == [("VS203", "scenes[0]")]
    assert codes(tmp_path, "scenes:\n  - {id: a, model: gen4_turbo, image: a.jpg}\n") == []


def test_transition_longer_than_a_scene(tmp_path: Path) -> None:
    body = """scenes:
  - {id: a, prompt: "A gull glides over the pier, tracking shot", duration: 2}
  - {id: b, prompt: "Fishermen haul a net, handheld", transition: crossfade, transition_duration: 2.5}
"""
    assert codes(tmp_path, body) == [("VS603", "scenes[1].transition_duration")]


def test_timing_warnings(tmp_path: Path) -> None:
    body = """scenes:
  - id: a
    duration: 2
    prompt: "A lantern flickers in the wind, static shot"
    narration: "This narration has far too many words to fit inside a two second scene at any pace."
    sfx: {prompt: "wind", at: 3}
"""
    found = codes(tmp_path, body)
    assert ("VS602", "scenes[0].narration") in found and ("VS604", "scenes[0].sfx.at") in found
    assert all(c.startswith("VS6") for c, _ in found)
    assert validate_file(tmp_path / "spec.yaml").ok  # warnings only


def test_defaults_point_at_the_default(tmp_path: Path) -> None:
    body = """defaults: {model: veo3.1_fast, duration: 5}
scenes:
  - {id: a, prompt: "Fog rolls over hills, aerial shot"}
  - {id: b, prompt: "A tractor crosses a field, aerial shot"}
"""
    assert codes(tmp_path, body) == [("VS205", "defaults.duration")]  # reported once, where it was written


def test_output_ratio_must_be_even(tmp_path: Path) -> None:
    body = 'output: {ratio: "1281:720"}\nscenes:\n  - {id: a, prompt: "Rain on a window, rack focus"}\n'
    assert codes(tmp_path, body) == [("VS104", "output.ratio")]


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    body = "scenes:\n  - id: a\n    prompt: 'One'\n    prompt: 'Two'\n"
    assert ("VS005", "scenes[0].prompt") in codes(tmp_path, body)


def test_voice_presets_are_case_sensitive_and_suggested(tmp_path: Path) -> None:
    found = diags(
        tmp_path, "defaults: {voice: maya}\nscenes:\n  - {id: a, prompt: 'Dawn', narration: 'Hi.'}\n"
    )
    assert [(c, p) for c, p, _ in found] == [("VS501", "defaults.voice")]


def test_a_scene_must_fit_both_of_its_transitions(tmp_path: Path) -> None:
    body = """defaults: {duration: 2}
scenes:
  - {id: a, prompt: "Dawn over a lake, aerial"}
  - {id: b, prompt: "Reeds sway, close-up", transition: crossfade, transition_duration: 1.5}
  - {id: c, prompt: "A heron lifts off, tracking", transition: crossfade, transition_duration: 1.5}
"""
    found = diags(tmp_path, body)
    assert [(c, p) for c, p, _ in found] == [("VS603", "scenes[1]")]
    assert "take 3 s" in found[0][2]


def test_narration_running_into_a_crossfade_is_flagged(tmp_path: Path) -> None:
    body = """scenes:
  - {id: a, duration: 2, prompt: "Dawn over a lake, aerial", narration: "One two three four"}
  - {id: b, duration: 2, prompt: "Reeds sway, close-up", transition: crossfade}
"""
    assert codes(tmp_path, body) == [("VS602", "scenes[0].narration")]


def test_numbers_are_finite_and_bounded(tmp_path: Path) -> None:
    body = """name: "../escaped"
budget: .inf
output: {path: build/noext}
scenes:
  - {id: a, prompt: "x", narration_offset: .inf, seed: -5}
  - {id: b, prompt: "y", narration_offset: 100000}
"""
    assert codes(tmp_path, body) == [
        ("VS104", "name"), ("VS105", "budget"), ("VS104", "output.path"),
        ("VS105", "scenes[0].narration_offset"), ("VS105", "scenes[0].seed"), ("VS105", "scenes[1].narration_offset"),
    ]  # fmt: skip


def test_yaml_is_read_as_yaml_1_2(tmp_path: Path) -> None:
    body = """scenes:
  - {id: a, prompt: "Dawn", seed: 010, transition_duration: 5e-1, keep_audio: no}
  - {id: b, prompt: "Dusk", seed: 1:30}
"""
    found = diags(tmp_path, body)
    assert [(c, p) for c, p, _ in found] == [("VS102", "scenes[0].keep_audio"), ("VS102", "scenes[1].seed")]
    from vidspec.core.source import load_text

    src, _ = load_text("a: 010\nb: 0x1F\nc: 5e-1\nd: .inf\ne: True\nf: on\ng: 1_000\n", "x.yaml")
    assert src.data == {"a": 10, "b": 31, "c": 0.5, "d": float("inf"), "e": True, "f": "on", "g": "1_000"}


def test_hostile_documents_get_one_line(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("version: 1\nscenes: &a [*a]\n")
    found = [(d.code, d.message) for d in validate_file(tmp_path / "spec.yaml").diagnostics]
    assert found[0][0] == "VS002" and "recursive" in found[0][1]
    lines = ["version: 1", "a0: &a0 [x,x,x,x,x,x,x,x,x]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (tmp_path / "spec.yaml").write_text("\n".join([*lines, "scenes: *a8"]) + "\n")
    found = [(d.code, d.message) for d in validate_file(tmp_path / "spec.yaml").diagnostics]
    assert found[0][0] == "VS002" and "expands" in found[0][1]
    (tmp_path / "spec.json").write_text('{"version": 1, "scenes": ' + "[" * 20000 + "}")
    assert [d.code for d in validate_file(tmp_path / "spec.json").diagnostics] == ["VS002"]


def test_json_duplicates_and_emoji_keep_positions(tmp_path: Path) -> None:
    text = '{\n  "version": 1,\n  "scenes": [\n    {"id": "a", "prompt": "\\ud83c\\udfbb violin", "duration": 7, "duration": 5}\n  ]\n}\n'
    (tmp_path / "spec.json").write_text(text)
    found = [(d.code, d.line, d.column) for d in validate_file(tmp_path / "spec.json").diagnostics.sorted()]
    assert ("VS005", 4, 65) in found  # column 65: the second "duration", after a 12-character escape


def test_file_content_must_match_its_name(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "assets" / "bowl.jpg", tmp_path / "photo.png")
    (tmp_path / "junk.webp").write_bytes(b"not an image at all")
    body = """scenes:
  - {id: a, image: photo.png, prompt: "Steam rises, push-in"}
  - {id: b, image: junk.webp, prompt: "Steam rises, push-in"}
"""
    found = diags(tmp_path, body)
    assert [(c, p) for c, p, _ in found] == [("VS302", "scenes[0].image"), ("VS302", "scenes[1].image")]
    assert "holds JPEG data, not PNG" in found[0][2] and "is not WEBP" in found[1][2]
