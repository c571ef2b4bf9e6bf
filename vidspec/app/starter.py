"""The starter project that `vidspec init` writes."""

from __future__ import annotations

_TEMPLATE = """\
# yaml-language-server: $schema=vidspec.schema.json
# A vidspec project. Check it for free:   vidspec validate {name}.yaml
# See what it would cost:                 vidspec plan {name}.yaml
# Render a free local animatic:           vidspec build {name}.yaml --backend preview
version: 1
name: {name}
output:
  ratio: "1280:720"     # frame size of the final cut
  fps: 24
budget: 200             # the most credits the film may cost, across builds (1 credit = $0.01)
defaults:               # any scene field; a scene's own value wins
  model: gen4.5         # `vidspec models` lists every model, ratio and duration
  ratio: "1280:720"
  duration: 5           # gen4.5 takes 2-10 whole seconds
  voice: Maya
scenes:
  - id: first-light
    prompt: "Sunrise over a quiet harbour, fishing boats rocking gently, slow aerial dolly forward"
    narration: "Every story starts somewhere."
  - id: market
    prompt: "A fishmonger lays fresh catch on crushed ice, morning light, handheld close-up"
    duration: 4
    transition: crossfade # cut (default) | crossfade | fade
    sfx: "seagulls and a busy fish market"
"""


def starter_spec(name: str) -> str:
    return _TEMPLATE.format(name=name)
