"""RunwayConfig: the key and base URL read once; a blank key is no key; the key never shows."""

from __future__ import annotations

import asyncio

import pytest

from vidspec.backends.runway.client import RunwayClient
from vidspec.backends.runway.config import DEFAULT_BASE_URL, RunwayConfig
from vidspec.errors import ConfigError

KEY = "key-not-real-91c2"


def test_unset_and_blank_keys_are_not_set() -> None:
    for env in (
        {},
        {"RUNWAYML_API_SECRET": ""},
        {"RUNWAYML_API_SECRET": " "},
        {"RUNWAYML_API_SECRET": "\t\n"},
    ):
        config = RunwayConfig.from_env(env)
        assert not config.has_key and config.base_url == DEFAULT_BASE_URL
        with pytest.raises(ConfigError, match="^RUNWAYML_API_SECRET is not set$"):
            config.require_key()


def test_key_and_base_url_are_trimmed() -> None:
    config = RunwayConfig.from_env(
        {"RUNWAYML_API_SECRET": f"  {KEY}\n", "RUNWAYML_BASE_URL": " http://127.0.0.1:9/ "}
    )
    assert config.has_key and config.require_key().reveal() == KEY
    assert config.base_url == "http://127.0.0.1:9/"
    assert RunwayConfig.from_env({"RUNWAYML_BASE_URL": "  "}).base_url == "https://api.dev.runwayml.com"


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not RunwayConfig.from_env().has_key
    monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
    assert RunwayConfig.from_env().has_key


def test_a_key_that_cannot_be_a_header_is_refused_without_echoing_it() -> None:
    config = RunwayConfig.from_env({"RUNWAYML_API_SECRET": f"{KEY}\r\nX-Evil: 1"})
    with pytest.raises(ConfigError, match="cannot go in an HTTP header") as info:
        config.require_key()
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_the_key_never_shows() -> None:
    config = RunwayConfig.from_env({"RUNWAYML_API_SECRET": KEY})
    for text in (repr(config), str(config), repr(config.api_key), str(config.api_key), f"{config}"):
        assert KEY not in text
    assert "<secret>" in repr(config)


def test_the_client_is_built_from_the_config() -> None:
    config = RunwayConfig.from_env(
        {"RUNWAYML_API_SECRET": KEY, "RUNWAYML_BASE_URL": "https://x.test.invalid/"}
    )
    client = RunwayClient.from_config(config)
    assert client.base_url == "https://x.test.invalid" and KEY not in repr(vars(client))
    asyncio.run(client.aclose())
    with pytest.raises(ConfigError, match="RUNWAYML_API_SECRET is not set"):
        RunwayClient.from_config(RunwayConfig())
