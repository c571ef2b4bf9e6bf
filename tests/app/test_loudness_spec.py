"""output.loudness in a spec file: what is accepted, and each mistake at its file:line:col with its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run

SPEC = """version: 1
output:
  loudness: {value}
scenes:
  - id: a
    prompt: "A bowl of noodles steaming on a table, slow push-in"
"""


@pytest.mark.parametrize("value", ["-23", "false", "{integrated: -14}", "{integrated: -18, true_peak: -2.5}"])
def test_valid_loudness(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(value=value))
    code, out, err = run(["validate", str(spec)], capsys)
    assert code == 0, out + err


@pytest.mark.parametrize(
    ("value", "where", "code", "words"),
    [
        ("0", "3:13", "VS102", "0 LUFS is not allowed"),
        ("-60", "3:13", "VS10", "loudness"),
        ("{integrated: -8, true_peak: -9}", "3:41", "VS105", "true_peak -9 dBTP is not above integrated -8"),
        ("{integrated: -16, peak: -1}", "3:31", "VS101", "did you mean 'true_peak'"),
    ],
)
def test_bad_loudness_is_reported_where_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, where: str, code: str, words: str
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(value=value))
    status, out, err = run(["validate", str(spec)], capsys)
    text = out + err
    assert status == 1 and f"s.yaml:{where}: error[{code}" in text and words in text, text
