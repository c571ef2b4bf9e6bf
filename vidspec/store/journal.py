"""The task journal: a create's intent before it is sent, its task id the moment it returns."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from vidspec.core.hashing import key_hex
from vidspec.store.atomic import atomic_write_text


@dataclass(frozen=True)
class JournalEntry:
    key: str
    name: str
    endpoint: str
    model: str
    task_id: str | None
    submitted_at: float
    credits_estimated: int
    state: str = "submitted"  # submitted | ambiguous | failed
    note: str = ""


class Journal:
    """Task ids written right after a create returns, before polling, so a killed build re-attaches."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / f"{key_hex(key)}.json"

    def write(self, entry: JournalEntry) -> None:
        atomic_write_text(self._path(entry.key), json.dumps(asdict(entry), sort_keys=True) + "\n")

    def get(self, key: str) -> JournalEntry | None:
        try:
            data = json.loads(self._path(key).read_text("utf-8"))
            return JournalEntry(**{k: v for k, v in data.items() if k in JournalEntry.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def entries(self) -> Iterator[JournalEntry]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.glob("*.json")):
            e = self.get("sha256:" + p.stem)
            if e is not None:
                yield e
