"""Caption cues from narration text: splitting, timing, SRT and WebVTT text.

Pure: no I/O, no ffmpeg. The stitcher times the cues to the *measured* narration and writes the files.

Rules:
- Whitespace is collapsed; an empty text gives no cues.
- A cue holds at most ``max_lines`` lines of about ``line_chars`` characters (default 2 x 42, the usual
  broadcast limit). Text is broken at sentence and clause boundaries first (``. ! ? , ; : — –``), then,
  only for a clause too long on its own, between words.
- After a sentence end, a new cue starts once the current one is at least half full, so cues read as
  sentences where they can.
- The interval [start, end] is shared out in proportion to each cue's character count; the last cue ends
  exactly at ``end``.
- ``Cue.text`` is one line; ``to_srt``/``to_vtt`` wrap it to ``line_chars`` when rendering.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

LINE_CHARS = 42
MAX_LINES = 2

# Break after clause punctuation followed by a space, or right after a dash (spaced or not).
_BOUNDARY = re.compile(r"(?<=[.!?;:,])\s+|(?<=[—–])\s*")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str

    def lines(self, line_chars: int = LINE_CHARS) -> list[str]:
        return textwrap.wrap(self.text, line_chars, break_long_words=False, break_on_hyphens=False) or [""]


def _fits(text: str, line_chars: int, max_lines: int) -> bool:
    lines = textwrap.wrap(text, line_chars, break_long_words=False, break_on_hyphens=False)
    return len(lines) <= max_lines


def _chunks(text: str, line_chars: int, max_lines: int) -> list[str]:
    """Cue texts, in order, each fitting max_lines x line_chars (a single overlong word excepted)."""
    text = " ".join(text.split())
    if not text:
        return []
    pieces: list[str] = []
    for clause in (p.strip() for p in _BOUNDARY.split(text)):
        if not clause:
            continue
        if _fits(clause, line_chars, max_lines):
            pieces.append(clause)
            continue
        # A clause too long for one cue: fall back to word boundaries.
        words = clause.split(" ")
        cur = ""
        for word in words:
            cand = f"{cur} {word}" if cur else word
            if cur and not _fits(cand, line_chars, max_lines):
                pieces.append(cur)
                cur = word
            else:
                cur = cand
        if cur:
            pieces.append(cur)

    limit = line_chars * max_lines
    out: list[str] = []
    cur = ""
    for piece in pieces:
        if not cur:
            cur = piece
            continue
        cand = f"{cur} {piece}"
        sentence_break = _SENTENCE_END.search(cur) is not None and len(cur) >= limit // 2
        if sentence_break or not _fits(cand, line_chars, max_lines):
            out.append(cur)
            cur = piece
        else:
            cur = cand
    if cur:
        out.append(cur)
    return out


def split_cues(
    text: str | None,
    start: float,
    end: float,
    *,
    line_chars: int = LINE_CHARS,
    max_lines: int = MAX_LINES,
) -> list[Cue]:
    """Split ``text`` into cues spread over [start, end] in proportion to their length."""
    if not text or end <= start:
        return []
    chunks = _chunks(text, line_chars, max_lines)
    total = sum(len(c) for c in chunks)
    if total == 0:
        return []
    cues: list[Cue] = []
    done = 0
    t0 = start
    for i, chunk in enumerate(chunks):
        done += len(chunk)
        # Cumulative boundaries, so rounding never drifts and the last cue ends exactly at `end`.
        t1 = end if i == len(chunks) - 1 else start + (end - start) * done / total
        cues.append(Cue(t0, t1, chunk))
        t0 = t1
    return cues


def _ms(t: float) -> int:
    return max(0, int(round(t * 1000)))


def _stamp(ms: int, sep: str) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def _times(cue: Cue) -> tuple[int, int]:
    a = _ms(cue.start)
    return a, max(a + 1, _ms(cue.end))  # players drop zero-length cues


def to_srt(cues: Iterable[Cue], *, line_chars: int = LINE_CHARS) -> str:
    """SubRip text; no cues gives an empty (valid) file."""
    blocks = []
    for n, cue in enumerate(cues, 1):
        a, b = _times(cue)
        # "-->" inside the text would read as a timing line.
        body = "\n".join(line.replace("-->", "->") for line in cue.lines(line_chars))
        blocks.append(f"{n}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{body}\n")
    return "\n".join(blocks)


def _vtt_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: Iterable[Cue], *, line_chars: int = LINE_CHARS) -> str:
    """WebVTT text; always starts with the WEBVTT header, so no cues is still a valid file."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        a, b = _times(cue)
        body = "\n".join(_vtt_escape(line) for line in cue.lines(line_chars))
        blocks.append(f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{body}\n")
    return "\n".join(blocks)
