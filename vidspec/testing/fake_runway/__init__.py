"""A fake Runway API: a real HTTP server on 127.0.0.1 for tests and benchmarks.

In process:  ``with FakeRunway(latency=0.3) as fake: ... fake.url ...``
As a process: ``python -m vidspec.testing.fake_runway --port 0 --latency 0.5 --ready-file F``
(prints its URL on line 1; faults and stats through ``/_admin/*``, see :class:`FakeRunwayProcess`).

What it accepts (``schemas``) and what it charges (``prices``) are deliberately the fake's own tables,
independent of ``vidspec.core.catalog`` and ``vidspec.core.pricing``, so tests cross-check them.
The server never prints or logs the Authorization header; ``raw_log`` keeps it redacted.

Modules: schemas (request bodies and input URIs), prices, states (tasks and their clock), faults,
outputs (what a task produces), uploads, transport (HTTP plumbing), server (FakeRunway and its routes),
process (FakeRunwayProcess and the ``python -m`` entry).
"""

from __future__ import annotations

from vidspec.testing.fake_runway.faults import FAULT_KINDS, Fault
from vidspec.testing.fake_runway.prices import fake_credits
from vidspec.testing.fake_runway.process import FakeRunwayProcess, main
from vidspec.testing.fake_runway.schemas import (
    ALL_MODELS,
    DATA_URI_MAX,
    ENDPOINT_MODELS,
    LANGS,
    PRESETS,
    Asset,
    Check,
    Field,
    Invalid,
)
from vidspec.testing.fake_runway.server import API_VERSION, FakeRunway, RequestRecord
from vidspec.testing.fake_runway.states import Task

__all__ = [
    "ALL_MODELS",
    "API_VERSION",
    "DATA_URI_MAX",
    "ENDPOINT_MODELS",
    "FAULT_KINDS",
    "LANGS",
    "PRESETS",
    "Asset",
    "Check",
    "FakeRunway",
    "FakeRunwayProcess",
    "Fault",
    "Field",
    "Invalid",
    "RequestRecord",
    "Task",
    "fake_credits",
    "main",
]
