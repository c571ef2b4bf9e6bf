"""The error tree: every exception of the package lives in vidspec/errors.py, drawn in its docstring, with an exit
code of its own."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import vidspec
from vidspec import errors
from vidspec.backends.runway import tasks

CLASSES = [obj for obj in vars(errors).values() if isinstance(obj, type) and issubclass(obj, BaseException)]


def test_no_exception_is_defined_outside_errors() -> None:
    strays = []
    for info in pkgutil.walk_packages(vidspec.__path__, "vidspec."):
        if info.name.startswith("vidspec.testing") or info.name in ("vidspec.errors", "vidspec.__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            defined_here = isinstance(obj, type) and obj.__module__ == info.name
            if defined_here and issubclass(obj, BaseException) and not name.startswith("_"):
                strays.append(f"{info.name}.{name}")
    assert strays == []


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_class_is_drawn_and_has_its_exit_code(cls: type[BaseException]) -> None:
    assert cls.__name__ in errors.__all__
    assert f"── {cls.__name__} " in (errors.__doc__ or "")
    assert issubclass(cls, (errors.VidspecError, errors.InternalError))
    assert vars(cls).get("exit_code") == (1 if issubclass(cls, errors.VidspecError) else 70)


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("INTERNAL.BAD_OUTPUT.CODE01", True),
        ("INTERNAL", True),
        ("THIRD_PARTY.UNAVAILABLE", True),
        ("SAFETY.INPUT.TEXT", False),
        ("ASSET.INVALID", False),
        ("INPUT_PREPROCESSING.SAFETY.TEXT", False),
        ("", False),
        (None, False),
    ],
)
def test_one_rule_for_retryable_failure_codes(code: str | None, retryable: bool) -> None:
    assert tasks.retryable_failure is errors.retryable_failure
    assert errors.retryable_failure(code) is retryable
    assert errors.TaskFailed("t1", "reason", code).retryable is retryable
