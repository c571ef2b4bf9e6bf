"""Test helpers: a fake Runway API server (see :mod:`vidspec.testing.fake_runway`).

Names are imported lazily so that ``python -m vidspec.testing.fake_runway`` does not import the module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidspec.testing.fake_runway import FAULT_KINDS, FakeRunway, FakeRunwayProcess, Fault, fake_credits

__all__ = ["FAULT_KINDS", "FakeRunway", "FakeRunwayProcess", "Fault", "fake_credits"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from vidspec.testing import fake_runway

        return getattr(fake_runway, name)
    raise AttributeError(f"module 'vidspec.testing' has no attribute {name!r}")
