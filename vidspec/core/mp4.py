"""Read an MP4/MOV's duration from its `mvhd` box, in pure Python (no ffmpeg, no decode)."""

from __future__ import annotations

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
