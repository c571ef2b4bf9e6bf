"""An in-process fake (short latency) and a client with the API's headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fake_runway.calls import HEADERS
from vidspec.testing import FakeRunway


@pytest.fixture
def fake() -> Iterator[FakeRunway]:
    with FakeRunway(latency=0.2) as f:
        yield f


@pytest.fixture
def client(fake: FakeRunway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers=HEADERS, timeout=10) as c:
        yield c
