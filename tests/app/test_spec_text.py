"""Bad spec text (issue 9, items 9 and 10) through `vidspec validate`: every error at its line and column,
in the text (with the source line and a caret) and in --format json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run

# (name, file bytes, suffix, code, line, column, words the message or hint must hold)
CASES = [
    ("non-utf8-byte", b'version: 1\nscenes:\n  - id: a\n    prompt: "caf\xe9 au lait"\n', ".yaml",
     "VS001", 4, 17, "0xe9"),
    ("non-utf8-after-bom", b'\xef\xbb\xbfversion: 1\nname: "\xff"\n', ".yaml", "VS001", 2, 8, "0xff"),
    ("non-utf8-after-multibyte", 'version: 1\nname: "é€'.encode() + b"\xc3(" + b'"\n', ".yaml", "VS001", 2, 10, "0xc3"),
    ("binary", b"version: 1\nscenes:\n  - id: a\x00\x01\x02\n", ".yaml", "VS001", 3, 10, "binary"),
    ("binary-json", b'{"version": 1,\n  "x": "\x00"}', ".json", "VS001", 2, 9, "binary"),
    ("bell", 'version: 1\nname: "é\x07"\n'.encode(), ".yaml", "VS002", 2, 9, "U+0007"),
    ("escape-sequence", b'version: 1\nscenes:\n  - id: a\n    prompt: "\x1b[31mred"\n', ".yaml",
     "VS002", 4, 14, "U+001B"),
    ("form-feed", b"version: 1\n\x0c\nscenes: []\n", ".yaml", "VS002", 2, 1, "U+000C"),
    ("c1-control", 'version: 1\nname: a\x9bb\n'.encode(), ".yaml", "VS002", 2, 8, "U+009B"),
    ("del", b"version: 1\nname: ab\x7f\n", ".yaml", "VS002", 2, 9, "U+007F"),
    ("after-emoji", 'version: 1\nname: "🎻🎻\x01"\n'.encode(), ".yaml", "VS002", 2, 10, "U+0001"),
    ("json-control", b'{"version": 1,\n "name": "a\x07b"}', ".json", "VS002", 2, 12, "control"),
    ("json-deep", b'{"version": 1,\n "scenes": ' + b"[" * 20000 + b"}", ".json", "VS002", 2, None, "deep"),
    ("nul-escape-in-a-path", b'version: 1\nscenes:\n  - id: a\n    prompt: x\n    image: "a\\0b.jpg"\n', ".yaml",
     "VS006", 5, 12, "U+0000"),
    ("json-escape-in-a-name", b'{"version": 1, "name": "\\u001b[31mred", "scenes": [{"id": "a", "prompt": "x"}]}',
     ".json", "VS006", 1, 24, "U+001B"),
    ("yaml-bad-date", b"version: 1\nscenes:\n  - id: a\n    prompt: 2024-13-45\n", ".yaml", "VS002", 4, 13, "month"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "suffix", "code", "line", "column", "words"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_every_error_has_a_line_and_column(
    tmp_path: Path,
    name: str,
    content: bytes,
    suffix: str,
    code: str,
    line: int,
    column: int | None,
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / f"spec{suffix}"
    spec.write_bytes(content)
    rc, out, _ = run(["validate", "--format", "json", str(spec)], capsys)
    assert rc == 1
    [d] = json.loads(out)["diagnostics"]
    assert d["code"] == code and d["line"] == line, d
    if column is not None:
        assert d["column"] == column, d
    assert isinstance(d["column"], int)
    assert words in d["message"] + (d["hint"] or ""), d

    rc, out, _ = run(["validate", str(spec)], capsys)
    assert rc == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{spec}:{line}:{d['column']}: error[{code}]: {d['message']}")
    # the source line under it, then a caret under the column; no raw control byte reaches the terminal
    assert lines[1].startswith(f"  {line} | ") and lines[2].lstrip(" ").startswith("|")
    assert lines[2].endswith("^")
    assert not any(ch < " " and ch != "\t" for ch in out.replace("\n", ""))


def test_the_caret_sits_under_the_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        'version: 1\nscenes:\n  - id: a\n    prompt: "Dawn"\n    duration: 7\n    model: veo3.1\n'
    )
    rc, out, _ = run(["validate", str(spec)], capsys)
    lines = out.splitlines()
    head = f"{spec}:5:15: error[VS205]: "
    i = next(i for i, text in enumerate(lines) if text.startswith(head))
    assert lines[i + 1] == "  5 |     duration: 7"
    assert lines[i + 2] == "    |               ^"
    assert lines[i + 2].index("^") == lines[i + 1].index("7")


def test_wide_characters_tabs_and_long_lines_keep_the_caret_aligned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.yaml"
    long = "x" * 500
    spec.write_text(f'version: 1\nscenes:\n  - {{id: a, prompt: "{long} 日本", bogus: 1}}\n')
    rc, out, _ = run(["validate", str(spec)], capsys)
    lines = out.splitlines()
    i = next(i for i, text in enumerate(lines) if "VS101" in text)
    shown, caret = lines[i + 1], lines[i + 2]
    assert len(shown) < 140 and "…" in shown  # a long line is cut to a window around the column
    before = shown[: shown.index("bogus")]
    assert caret.index("^") == len(before) + sum(
        1 for ch in before if "\u3000" <= ch <= "\u9fff"
    )  # 日本: 2 cells


def test_tabs_keep_the_caret_aligned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text('version: 1\nscenes:\n  - {id: a,\tprompt: "x",\tbogus: 1}\n')
    rc, out, _ = run(["validate", str(spec)], capsys)
    lines = out.splitlines()
    i = next(i for i, text in enumerate(lines) if "VS101" in text)
    assert "\t" not in lines[i + 1]  # shown as spaces, the caret counted the same way
    assert lines[i + 1][lines[i + 2].index("^") :].startswith("bogus")


def test_a_path_too_long_for_the_file_system_is_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "a" * 300  # over NAME_MAX: stat() raises ENAMETOOLONG instead of saying "no such file"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"version: 1\nscenes:\n  - id: a\n    model: act_two\n    character: {name}.png\n"
                    f"    performance: {name}.mp4\n  - id: b\n    prompt: x\n    image: {name}/x.jpg\n")  # fmt: skip
    rc, out, _ = run(["validate", "--format", "json", str(spec)], capsys)
    assert rc == 1
    found = [(d["code"], d["path"]) for d in json.loads(out)["diagnostics"]]
    for field in ("scenes[0].character", "scenes[0].performance", "scenes[1].image"):
        assert ("VS301", field) in found, found
