"""Narration and sound effects: models, voices, lengths against the scene."""

from __future__ import annotations

from collections.abc import Iterator

from vidspec.core import catalog as cat
from vidspec.core.diagnostics import Diagnostic, error, warning
from vidspec.core.pricing import estimate_speech_seconds
from vidspec.core.resolve import ResolvedScene
from vidspec.core.rules.hints import did_you_mean
from vidspec.core.rules.models import check_model_kind
from vidspec.core.rules.text import check_prompt_text
from vidspec.core.spec import Narration, Sfx
from vidspec.core.timing import Timing, narration_parts


def check_narration(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    parts = narration_parts(rs)
    if parts is None:
        return
    text, voice, model = parts
    n = rs.get("narration")
    npath = rs.where("narration")
    model_path = (*npath, "model") if isinstance(n, Narration) else npath
    yield from check_model_kind(model, "speech", model_path)
    text_path = (*npath, "text") if isinstance(n, Narration) else npath
    if not text.strip():
        yield error("VS103", "the narration text is empty", text_path)
    yield from check_prompt_text(text, text_path, "the narration")
    if voice not in cat.VOICES:
        vpath = (*npath, "voice") if isinstance(n, Narration) and n.voice else rs.where("voice")
        yield error(
            "VS501",
            f"unknown voice preset '{voice}'",
            vpath,
            did_you_mean(voice, cat.VOICES, "see the voice list in `vidspec models --voices`"),
        )
    est = estimate_speech_seconds(text) + (rs.get("narration_offset") or 0.0)
    seconds = ctx.scene_seconds(rs)
    if seconds and est <= seconds and est > seconds - ctx.overlap_after(rs.index):
        yield warning("VS602", f"the narration will take about {est:.1f} s (at 150 words a minute) and run into "
                      f"the crossfade to the next scene, over its first words", text_path,
                      "shorten the text, add narration_offset to the next scene, or use a cut")  # fmt: skip
    if seconds and est > seconds:
        policy = rs.get("fit_audio")
        effect = {
            "extend": "the last frame will be held until it ends",
            "trim": "it will be cut",
            "error": "the stitch will fail",
        }[policy]
        yield warning(
            "VS602",
            f"the narration will take about {est:.1f} s (at 150 words a minute) "
            f"but the scene is {seconds:g} s; fit_audio={policy}: {effect}",
            text_path,
            "shorten the text, lengthen the scene, or set fit_audio",
        )


def check_sfx(rs: ResolvedScene, ctx: Timing) -> Iterator[Diagnostic]:
    sfx = rs.get("sfx")
    if sfx is None:
        return
    spath = rs.where("sfx")
    if isinstance(sfx, Sfx):
        yield from check_model_kind(sfx.model, "sound", (*spath, "model"))
        yield from check_prompt_text(sfx.prompt, (*spath, "prompt"), "the sound prompt")
        lo, hi = cat.SOUND_DURATION
        if sfx.duration is not None and not lo <= sfx.duration <= hi:
            yield error(
                "VS502",
                f"sound duration {sfx.duration:g} s is out of range",
                (*spath, "duration"),
                f"eleven_text_to_sound_v2 takes {lo:g}-{hi:g} s",
            )
        seconds = ctx.scene_seconds(rs)
        if seconds and sfx.at >= seconds:
            yield warning(
                "VS604",
                f"the sound starts at {sfx.at:g} s, after the {seconds:g} s scene ends",
                (*spath, "at"),
                f"use a value below {seconds:g}",
            )
    else:
        yield from check_prompt_text(sfx, spath, "the sound prompt")
