"""Read an MP4/MOV's duration (its `mvhd` box) and its tracks' kinds, in pure Python (no ffmpeg, no decode)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import BinaryIO


def _boxes(f: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out = []
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def mp4_duration(path: Path) -> float | None:
    """Seconds, or None when the file is not an MP4/MOV we can read."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            end = f.tell()
            for kind, body, box_end in _boxes(f, 0, end):
                if kind != b"moov":
                    continue
                for sub, sbody, _ in _boxes(f, body, box_end):
                    if sub != b"mvhd":
                        continue
                    f.seek(sbody)
                    version = f.read(1)[0]
                    if version == 1:
                        f.seek(sbody + 20)
                        timescale, duration = struct.unpack(">IQ", f.read(12))
                    else:
                        f.seek(sbody + 12)
                        timescale, duration = struct.unpack(">II", f.read(8))
                    return duration / timescale if timescale else None
    except (OSError, struct.error, IndexError):
        return None
    return None


def mp4_track_handlers(source: Path | bytes) -> set[bytes] | None:
    """The handler type of every track (b"vide", b"soun", ...), or None when no `moov` box can be read.

    `source` is a file or the bytes of one (a data URI's)."""
    try:
        with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as f:
            f.seek(0, 2)
            end = f.tell()
            found: set[bytes] | None = None
            for kind, body, box_end in _boxes(f, 0, end):
                if kind != b"moov":
                    continue
                found = set() if found is None else found
                for trak, tbody, tend in _boxes(f, body, box_end):
                    if trak != b"trak":
                        continue
                    for mdia, mbody, mend in _boxes(f, tbody, tend):
                        if mdia != b"mdia":
                            continue
                        for hdlr, hbody, hend in _boxes(f, mbody, mend):
                            if hdlr == b"hdlr" and hend - hbody >= 12:
                                f.seek(hbody + 8)  # version and flags, pre_defined, then handler_type
                                found.add(f.read(4))
            return found
    except (OSError, struct.error, IndexError, ValueError):
        return None
