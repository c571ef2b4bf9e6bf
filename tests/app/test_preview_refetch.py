"""The free preview backend renders a damaged or missing cached stand-in again (it has no task to fetch from)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run, summary
from vidspec.media.probe import probe
from vidspec.store.cache import Cache, forget_verifications

pytestmark = pytest.mark.slow  # real media

SPEC = """version: 1
output: {ratio: "320:180", preset: ultrafast}
scenes:
  - {id: a, prompt: "Waves break on black sand, low tracking shot", duration: 2}
  - {id: b, prompt: "Steam rises from a hot spring at dawn, slow dolly", duration: 2}
"""


def test_a_damaged_preview_clip_is_rendered_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    code, out, err = run(["build", str(spec), "--backend", "preview", "--json"], capsys)
    assert code == 0, err
    store = Cache.for_spec(spec).store("preview")
    records = sorted((store.root / "records").rglob("*.json"))
    key = json.loads(records[0].read_text())["key"]
    found = store.check(key)
    assert found.ok and found.path is not None
    data = bytearray(found.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    found.path.write_bytes(bytes(data))
    forget_verifications()

    code, out, _ = run(["plan", "--backend", "preview", "--json", str(spec)], capsys)
    actions = [a["action"] for s in json.loads(out)["scenes"] for a in s["assets"]]
    assert code == 0 and sorted(actions) == ["cached", "refetch"]

    code, out, err = run(["build", str(spec), "--backend", "preview", "--json", "--force-stitch"], capsys)
    s = summary(out)
    assert code == 0, err
    assert (s["refetched"], s["generated"], s["cached"]) == (1, 0, 1) and s["stitched"]
    assert store.check(key).ok and len(list((store.root / "quarantine").iterdir())) == 1
    info = probe(Path(s["output"]))
    assert (info.width, info.height) == (320, 180) and info.duration == pytest.approx(4.0, abs=0.1)
