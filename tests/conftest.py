from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key or cache dir must never leak into a test.
    for name in ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "VIDSPEC_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("COLUMNS", "160")
