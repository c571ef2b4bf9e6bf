"""The task journal: a create's intent before it is sent, its task id the moment it returns."""

from __future__ import annotations

import contextlib
import errno
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from vidspec.core.hashing import key_hex
from vidspec.errors import WriteError
from vidspec.store.atomic import atomic_write_text, overwrite_in_place


@dataclass(frozen=True)
class JournalEntry:
    key: str
    name: str
    endpoint: str
    model: str
    task_id: str | None
    submitted_at: float
    credits_estimated: int
    state: str = "submitted"  # submitting (intent, before the create is sent) | submitted | ambiguous
    note: str = ""
    attempt: str = ""  # the create's attempt in the spec's spend record (store/spend.py)
    credits_api_estimate: int | None = None  # the create response's estimatedCost.credits


class Journal:
    """Task ids written right after a create returns, before polling, so a killed build re-attaches."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / f"{key_hex(key)}.json"

    def write(self, entry: JournalEntry) -> None:
        path = self._path(entry.key)
        text = json.dumps(asdict(entry), sort_keys=True) + "\n"
        try:
            atomic_write_text(path, text)
        except WriteError as exc:
            # A full disk right after a paid create: no room for a temp file, but the intent's own block
            # can still take the task id, so the next run re-attaches instead of counting it as lost.
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.is_file():
                raise
            overwrite_in_place(path, text.encode("utf-8"))

    def get(self, key: str) -> JournalEntry | None:
        try:
            data = json.loads(self._path(key).read_text("utf-8"))
            return JournalEntry(**{k: v for k, v in data.items() if k in JournalEntry.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def remove(self, key: str) -> None:
        path = self._path(key)
        try:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        except OSError as exc:
            raise WriteError(path, exc) from None

    def entries(self) -> Iterator[JournalEntry]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.glob("*.json")):
            e = self.get("sha256:" + p.stem)
            if e is not None:
                yield e
