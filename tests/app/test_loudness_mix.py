"""The example's final mix, measured with loudnorm in print mode: on the target, under the true-peak ceiling,
and its music audible under the narration and clearly louder where nobody speaks."""

from __future__ import annotations

import json
import wave
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import loudness
from vidspec.app.export import cached_assets
from vidspec.app.workspace import Workspace
from vidspec.media.stitch import stitch
from vidspec.media.timeline import LoudnessTarget, Timeline, build_timeline

pytestmark = pytest.mark.slow  # end-to-end: real media, subprocesses


def _silent_like(src: Path, dest: Path) -> Path:
    """A WAV of digital silence exactly as long as ``src`` (same rate and sample count)."""
    with wave.open(str(src)) as w:
        params, frames = w.getparams(), w.getnframes()
    with wave.open(str(dest), "wb") as out:
        out.setparams(params)
        out.writeframes(b"\0" * frames * params.sampwidth * params.nchannels)
    return dest


def test_the_example_mix_meets_the_target_and_its_music_is_audible(
    tmp_path: Path, hawker_preview: tuple[Path, Path]
) -> None:
    root = tmp_path
    spec, film = hawker_preview

    whole = loudness(film)
    assert abs(whole.integrated - -16.0) <= 1.0, whole
    assert whole.true_peak <= -1.0, whole

    manifest: dict[str, Any] = json.loads(film.with_name(film.name + ".manifest.json").read_text())
    scenes = {s["scene_id"]: s for s in manifest["result"]["scenes"]}
    a, b = scenes["opening"]["narration"]
    under = (max(a + 0.5, 1.2), b - 0.4)  # the first narration, after the music's 1 s fade-in
    jar = scenes["jar"]
    free = (
        jar["start"] + 3.2,
        scenes["closing"]["narration"][0] - 0.4,
    )  # after the 3 s sfx, before the voice
    assert under[1] - under[0] > 1.5 and free[1] - free[0] > 1.0

    # The same cut from the same cache, twice, both with the master gain fixed at 0 dB so they compare:
    # the full mix (R), and the music stem (M: every narration replaced by silence of the same length,
    # so placement and ducking are unchanged).
    ws = Workspace.open(spec, namespace="preview")
    paths, sums = cached_assets(ws)
    tl: Timeline = build_timeline(
        ws.graph, paths, ws.keys, root / "r.mp4", preset="ultrafast", checksums=sums
    )
    tl = replace(tl, width=320, height=180)  # the sound is what is measured: a small picture is quicker
    fixed = LoudnessTarget(master_gain_db=0.0)
    full = stitch(replace(tl, loudness=fixed)).path
    hushed = tuple(
        replace(s, narration=_silent_like(s.narration, root / f"{s.scene_id}.hush.wav")) if s.narration else s
        for s in tl.scenes
    )
    stem = stitch(replace(tl, scenes=hushed, output=root / "m.mp4", loudness=fixed)).path
    master_gain = whole.integrated - loudness(full).integrated  # what mastering added to the whole film

    voice = loudness(full, under[0], under[1] - under[0]).integrated
    music_under = loudness(stem, under[0], under[1] - under[0]).integrated
    music_free = loudness(stem, free[0], free[1] - free[0]).integrated
    print(
        f"voice {voice:.1f}, music under it {music_under:.1f}, alone {music_free:.1f}, master {master_gain:+.1f}"
    )
    # audible under the narration: no more than 20 LU below it, and above -40 LUFS in the final film
    assert voice - 20 < music_under < voice - 6
    assert music_under + master_gain > -40
    # clearly louder where nobody speaks (duck: true lowers it to 0.35, -9.1 dB)
    assert music_free - music_under >= 6
