"""Loudness rules without media: loudnorm's figures read, gains per role, the master gain and its correction,
the per-file cache, and output.loudness in the spec."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from vidspec.core.hashing import file_sha256
from vidspec.core.spec import Output
from vidspec.errors import StitchError
from vidspec.media import loudness
from vidspec.media.loudness import (
    MAX_BOOST,
    Measurement,
    fit_master,
    master_gain_db,
    measure_file,
    parse_loudnorm,
    role_gain_db,
)
from vidspec.media.timeline import LoudnessTarget, loudness_target

STDERR = """size=N/A time=00:00:24.00 bitrate=N/A speed=81.2x
[Parsed_loudnorm_0 @ 0x7fe9c4001b40]
{
	"input_i" : "-39.24",
	"input_tp" : "-30.94",
	"input_lra" : "0.00",
	"input_thresh" : "-49.32",
	"output_i" : "-23.65",
	"output_tp" : "-13.59",
	"output_lra" : "0.90",
	"output_thresh" : "-33.70",
	"normalization_type" : "dynamic",
	"target_offset" : "-0.35"
}
"""
T = LoudnessTarget()


def test_parse_loudnorm_reads_the_first_pass_figures() -> None:
    m = parse_loudnorm("noise before\n" + STDERR)
    assert m == Measurement(-39.24, -30.94, 0.0, -49.32)
    assert not m.silent


def test_silence_reads_as_minus_infinity() -> None:
    m = parse_loudnorm(STDERR.replace('"-39.24"', '"-inf"').replace('"-30.94"', '"-inf"'))
    assert m.integrated == -math.inf and m.silent
    assert role_gain_db(m, "narration", T) == 0.0  # silence is not raised (it would only be noise)


def test_no_figures_is_a_stitch_error_with_ffmpegs_words() -> None:
    with pytest.raises(StitchError, match="(?s)printed no measurement.*No such file"):
        parse_loudnorm("x.wav: No such file or directory\n")


@pytest.mark.parametrize(
    ("role", "measured", "gain"),
    [("narration", -30.0, 14.0), ("music", -39.24, 23.24), ("sfx", -12.0, -8.0), ("clip", -22.0, 0.0)],
)
def test_each_role_has_its_level_relative_to_the_target(role: str, measured: float, gain: float) -> None:
    assert role_gain_db(Measurement(measured, -10, 3, -40), role, T) == pytest.approx(gain)


def test_a_very_quiet_file_is_raised_at_most_max_boost() -> None:
    assert role_gain_db(Measurement(-69.0, -60, 0, -79), "narration", T) == MAX_BOOST


def test_the_target_moves_every_level() -> None:
    quiet = LoudnessTarget(integrated=-23.0)
    assert role_gain_db(Measurement(-30, -10, 3, -40), "narration", quiet) == pytest.approx(7.0)


def _loss(taken: float) -> tuple[list[float], object]:
    asked: list[float] = []

    def loss(gain: float) -> float:
        asked.append(gain)
        return taken

    return asked, loss


def test_master_gain_puts_the_mix_on_the_target() -> None:
    asked, loss = _loss(0.1)
    filters = fit_master(Measurement(-20.0, -3.0, 6, -30), loss, T)  # type: ignore[arg-type]
    assert filters[0] == "volume=4.000dB" and asked == [4.0]  # checked once, close enough: kept
    assert any(f.startswith("alimiter=") and "level=disabled" in f for f in filters)
    limit = next(f for f in filters if f.startswith("alimiter=")).split("limit=")[1].split(":")[0]
    assert 20 * math.log10(float(limit)) < T.true_peak  # the ceiling is under -1 dBTP


def test_a_limiter_that_takes_loudness_off_gets_the_gain_corrected() -> None:
    _, loss = _loss(0.8)
    assert fit_master(Measurement(-20.0, -3.0, 6, -30), loss, T)[0] == "volume=4.800dB"  # type: ignore[arg-type]


def test_a_mix_whose_peaks_stay_under_the_ceiling_is_not_checked() -> None:
    asked, loss = _loss(0.8)
    # +4 dB puts its peak at -8 dBTP: the limiter will not act
    assert fit_master(Measurement(-20.0, -12.0, 6, -30), loss, T)[0] == "volume=4.000dB"  # type: ignore[arg-type]
    assert asked == []


def test_a_fixed_master_gain_measures_nothing() -> None:
    asked, loss = _loss(0.8)
    target = LoudnessTarget(master_gain_db=1.5)
    assert fit_master(Measurement(-20.0, -3.0, 6, -30), loss, target)[0] == "volume=1.500dB"  # type: ignore[arg-type]
    assert asked == []


def test_a_silent_mix_is_not_raised() -> None:
    assert master_gain_db(Measurement(-math.inf, -math.inf, 0, -70), T) == 0.0


def test_measurements_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[Path] = []

    def fake(path: Path, filters: Sequence[str] = ()) -> Measurement:
        runs.append(path)
        return Measurement(-20.0 - len(runs), -3.0, 2.0, -30.0)

    monkeypatch.setattr(loudness, "measure_with", fake)
    a = tmp_path / "a.wav"
    a.write_bytes(b"one")
    cache = tmp_path / "cache"
    first = measure_file(a, cache)
    assert measure_file(a, cache) == first and len(runs) == 1  # the second read comes from the cache
    copy = tmp_path / "b.wav"
    copy.write_bytes(b"one")
    assert measure_file(copy, cache) == first and len(runs) == 1  # same bytes, same measurement
    a.write_bytes(b"two")
    assert measure_file(a, cache) != first and len(runs) == 2  # changed bytes: measured again
    (cache / f"{loudness.MEASURE_VERSION}-{file_sha256(copy)}.json").write_text("{not json")
    measure_file(copy, cache)  # an unreadable record is measured again, not an error
    assert len(runs) == 3


def test_output_loudness_in_the_spec() -> None:
    assert loudness_target(Output().loudness) == LoudnessTarget(-16.0, -1.0)
    assert loudness_target(Output.model_validate({"loudness": -23}).loudness) == LoudnessTarget(-23.0, -1.0)
    both = Output.model_validate({"loudness": {"integrated": -14, "true_peak": -2}}).loudness
    assert loudness_target(both) == LoudnessTarget(-14.0, -2.0)
    assert loudness_target(Output.model_validate({"loudness": False}).loudness) is None


@pytest.mark.parametrize(
    "bad", [0, 0.0, True, -60, 3, "loud", {"integrated": -16, "peak": -1}, {"true_peak": 1}]
)
def test_bad_loudness_values_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        Output.model_validate({"loudness": bad})
