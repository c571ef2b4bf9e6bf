"""How to reach Runway: the API key and the base URL, read from the environment once.

The app builds one RunwayConfig at start-up and passes it down; nothing else in the package reads these
variables. A key that is empty or only whitespace counts as not set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vidspec.errors import ConfigError

__all__ = ["BASE_URL_ENV", "DEFAULT_BASE_URL", "KEY_ENV", "RunwayConfig", "Secret"]

KEY_ENV = "RUNWAYML_API_SECRET"
BASE_URL_ENV = "RUNWAYML_BASE_URL"
DEFAULT_BASE_URL = "https://api.dev.runwayml.com"


class Secret:
    """Holds the API key; its repr and str never show it, so a stray f-string or vars() dump is harmless."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


@dataclass(frozen=True)
class RunwayConfig:
    """``api_key`` is None when the key is not set (or blank); the repr shows ``<secret>`` otherwise."""

    api_key: Secret | None = None
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RunwayConfig:
        env = os.environ if environ is None else environ
        key = env.get(KEY_ENV, "").strip()
        base_url = env.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
        return cls(Secret(key) if key else None, base_url)

    @property
    def has_key(self) -> bool:
        return self.api_key is not None

    def require_key(self) -> Secret:
        """The key, checked only when a request is about to need it (a preview never does)."""
        if self.api_key is None:
            raise ConfigError(f"{KEY_ENV} is not set")
        key = self.api_key.reveal()
        if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
            # Never echo it: say what is wrong with it, not what it is.
            raise ConfigError(
                f"{KEY_ENV} holds characters that cannot go in an HTTP header "
                "(spaces, line breaks or non-ASCII); check how it was set"
            )
        return self.api_key
