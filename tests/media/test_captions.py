"""vidspec.captions: pure splitting, timing and SRT/WebVTT rendering."""

from __future__ import annotations

import re
import textwrap

import pytest

from vidspec.media.captions import Cue, split_cues, to_srt, to_vtt

LONG = (
    "The city wakes before dawn. Bakers light their ovens, trams rattle past the river — and the first "
    "ferries cross, carrying the night shift home; gulls follow them: loud, hungry and patient. "
    "Averyveryverylongwordthatcannotbebrokenanywhereatallbecauseithasnospaces ends it."
)


def _fits(text: str) -> bool:
    return len(textwrap.wrap(text, 42, break_long_words=False)) <= 2


def test_empty_text_gives_no_cues() -> None:
    assert split_cues("", 0, 5) == []
    assert split_cues(None, 0, 5) == []
    assert split_cues("   \n ", 0, 5) == []
    assert split_cues("Hello", 3, 3) == []


def test_short_text_is_one_cue_over_the_whole_interval() -> None:
    assert split_cues("  Hello,\n world. ", 1.25, 3.5) == [Cue(1.25, 3.5, "Hello, world.")]


def test_long_text_splits_into_contiguous_proportional_cues() -> None:
    cues = split_cues(LONG, 2.0, 14.0)
    assert len(cues) >= 4
    assert cues[0].start == 2.0 and cues[-1].end == 14.0
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end == pytest.approx(b.start)
    total_chars = sum(len(c.text) for c in cues)
    for c in cues:
        assert c.end - c.start == pytest.approx(12.0 * len(c.text) / total_chars)
        # every cue fits 2 x 42 unless it is a single unbreakable word plus what fits
        assert _fits(c.text) or len(c.text.split()) <= 2
    # nothing lost or reordered
    assert " ".join(c.text for c in cues) == " ".join(LONG.split())


def test_breaks_at_clause_boundaries_not_mid_clause() -> None:
    cues = split_cues(LONG, 0, 10)
    for c in cues[:-1]:
        assert re.search(r"[.,;:—]$", c.text), c.text


def test_a_clause_longer_than_a_cue_breaks_between_words() -> None:
    text = " ".join(["word"] * 60)
    cues = split_cues(text, 0, 6)
    assert len(cues) >= 3
    assert all(_fits(c.text) for c in cues)


def test_srt_format() -> None:
    cues = [Cue(0.2, 1.2, "Hello there."), Cue(61.0004, 3661.9996, "x" * 30 + " " + "y" * 30 + " a --> b")]
    assert to_srt(cues) == (
        "1\n00:00:00,200 --> 00:00:01,200\nHello there.\n\n"
        f"2\n00:01:01,000 --> 01:01:02,000\n{'x' * 30}\n{'y' * 30} a -> b\n"
    )


def test_vtt_format_and_escaping() -> None:
    out = to_vtt([Cue(0.0, 0.0, "Tom & <Jerry>")])
    # zero-length cues get 1 ms so players keep them
    assert out == "WEBVTT\n\n00:00:00.000 --> 00:00:00.001\nTom &amp; &lt;Jerry&gt;\n"


def test_empty_files_are_valid() -> None:
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"
