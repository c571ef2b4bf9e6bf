"""A union's model branch with a validator of its own: its errors are still told, never "valid"."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, model_validator

from vidspec.core.validate import translate


class Inner(BaseModel):
    a: int = 0

    @model_validator(mode="after")
    def _small(self) -> Inner:
        if self.a > 5:
            raise ValueError("too big")
        return self


class Outer(BaseModel):
    x: Inner | int


def _told(data: dict[str, object]) -> list[tuple[str, tuple[str | int, ...]]]:
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(data)
    return [(d.message, d.path) for d, _ in translate(info.value, data)]


def test_a_validator_error_in_a_model_branch_is_told_at_the_value() -> None:
    assert _told({"x": {"a": 9}}) == [("`x`: Value error, too big", ("x",))]


def test_a_field_error_inside_a_validated_branch_is_told_at_its_field() -> None:
    [(message, path)] = _told({"x": {"a": "q"}})
    assert path == ("x", "a") and "valid integer" in message
