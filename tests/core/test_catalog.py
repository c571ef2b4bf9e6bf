"""The catalogue checks itself: adding a model means adding a row, and this says what else is missing."""

from __future__ import annotations

from vidspec.core import catalog as cat
from vidspec.core.pricing import credits

# Every model in the API facts table (shared/runway-api.md), kept here so the tests do not read ../shared.
API_MODELS = {
    ("gen4.5", "text_to_video"), ("gen4.5", "image_to_video"), ("gen4_turbo", "image_to_video"),
    ("veo3.1", "text_to_video"), ("veo3.1", "image_to_video"), ("veo3.1_fast", "text_to_video"),
    ("veo3.1_fast", "image_to_video"), ("gen4_aleph", "video_to_video"), ("aleph2", "video_to_video"),
    ("act_two", "character_performance"), ("gen4_image", "text_to_image"), ("gen4_image_turbo", "text_to_image"),
    ("eleven_multilingual_v2", "text_to_speech"), ("eleven_text_to_sound_v2", "sound_effect"),
    ("eleven_voice_dubbing", "voice_dubbing"),
}  # fmt: skip


def test_every_api_model_appears_exactly_once() -> None:
    pairs = [(r.model, r.endpoint) for r in cat.CATALOG]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == API_MODELS


def test_rows_are_self_consistent() -> None:
    for r in cat.CATALOG:
        assert r.requires <= r.inputs, r.label
        assert len(set(r.ratios)) == len(r.ratios), r.label
        for ratio in r.ratios:
            w, h = cat.ratio_size(ratio)
            assert w > 0 and h > 0
        if r.kind == "video" and r.durations is not None:
            for d in r.durations:
                assert credits(r, seconds=d) > 0, (r.label, d)
        assert r.image_positions[0] == "first"
        assert r.kind == cat.kind_of(r.model)


def test_default_models_exist_and_have_the_right_kind() -> None:
    for kind, model in cat.DEFAULT_MODELS.items():
        assert cat.kind_of(model) == kind


def test_endpoint_choice_follows_inputs() -> None:
    assert cat.video_endpoint_for(frozenset({"text"})) == "text_to_video"
    assert cat.video_endpoint_for(frozenset({"text", "image"})) == "image_to_video"
    assert cat.video_endpoint_for(frozenset({"text", "video"})) == "video_to_video"
    assert cat.video_endpoint_for(frozenset({"character", "performance"})) == "character_performance"


def test_only_gen4_aleph_is_marked_retired() -> None:
    assert [r.model for r in cat.CATALOG if r.retired] == ["gen4_aleph"]


def test_gen4_turbo_takes_any_whole_duration_from_2_to_10() -> None:
    from vidspec.core.validate import validate_text

    def codes(duration: int) -> list[str]:
        spec = (
            "version: 1\nscenes:\n  - id: jar\n    model: gen4_turbo\n"
            f"    image: https://example.com/jar.png\n    duration: {duration}\n"
        )
        return [d.code for d in validate_text(spec).diagnostics if d.severity == "error"]

    for ok in (2, 3, 7, 10):
        assert codes(ok) == [], ok
    for bad in (1, 11):
        assert codes(bad) == ["VS205"], bad
    row = cat.row("gen4_turbo", "image_to_video")
    assert row is not None and row.durations_text() == "2-10 s (integer)"
    assert credits(row, seconds=3) == 15
