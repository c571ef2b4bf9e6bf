"""What a task will produce: the kind, size and length of its output, from its body and its input media."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vidspec.media.probe import wav_length
from vidspec.testing.fake_media import media_duration, scaled_size
from vidspec.testing.fake_runway.schemas import Asset, Invalid

# kind (video | image | audio), width, height, seconds, with an audio track
OutputPlan = tuple[str, int, int, float, bool]
MediaInfo = tuple[float, int | None, int | None]  # duration, width, height


class OutputPlanner:
    """Plans outputs; remembers the length of each input it probed (ffmpeg is slow)."""

    def __init__(self) -> None:
        self._durations: dict[bytes, MediaInfo | None] = {}

    def _probe(self, asset: Asset | None) -> MediaInfo | None:
        if asset is None or asset.data is None:
            return None
        key = asset.data[:65536] + len(asset.data).to_bytes(8, "big")
        if key not in self._durations:
            self._durations[key] = media_duration(asset.data, asset.suffix)
        return self._durations[key]

    def plan(
        self, endpoint: str, model: str, body: dict[str, Any], assets: Mapping[str, Asset], scale: float
    ) -> OutputPlan:
        """`assets`: the checked input assets by field path; `scale`: output size / requested ratio.

        Raises Invalid for an input the API refuses once it has looked at it.
        """

        def size(ratio: str | None, default: str = "1280:720") -> tuple[int, int]:
            return scaled_size(ratio or default, scale)

        if endpoint in ("text_to_video", "image_to_video"):
            audio = model.startswith("veo") and bool(body.get("audio", True))
            return ("video", *size(body["ratio"]), float(body["duration"]), audio)
        if endpoint == "video_to_video":
            info = self._probe(assets.get("videoUri"))
            seconds = info[0] if info else 5.0
            if body.get("ratio"):
                w, h = size(body["ratio"])
            elif info and info[1] and info[2]:
                w, h = info[1] // 2 * 2, info[2] // 2 * 2
            else:
                w, h = size(None)
            return ("video", w, h, seconds, False)
        if endpoint == "character_performance":
            info = self._probe(assets.get("reference.uri"))
            seconds = info[0] if info else 5.0
            if not 3.0 - 0.05 <= seconds <= 30.0 + 0.05:
                raise Invalid(
                    f"reference.uri: the reference performance must last 3-30 s, got {seconds:.2f} s"
                )
            return ("video", *size(body.get("ratio")), seconds, False)
        if endpoint == "text_to_image":
            return ("image", *size(body["ratio"]), 0.0, False)
        if endpoint == "text_to_speech":
            return ("audio", 0, 0, max(1.0, len(str(body["promptText"]).split()) / 2.5), False)
        if endpoint == "sound_effect":
            return ("audio", 0, 0, float(body.get("duration", 5)), False)
        asset = assets.get("audioUri")
        seconds = (wav_length(asset.data) if asset and asset.data else None) or 3.0
        return ("audio", 0, 0, seconds, False)
