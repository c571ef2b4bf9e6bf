"""API facts the client reads leniently: a 400's `issues`, a FAILED task without `failureCode`. No network."""

from __future__ import annotations

import httpx
import pytest

from tests.backends.test_runway_client import KEY, Recorder, run
from vidspec.backends.runway.client import Task
from vidspec.errors import ApiIssue, BadRequest


def test_a_400_carries_its_issues_with_wire_paths() -> None:
    body = {
        "error": "Validation of body failed",
        "issues": [
            {"code": "custom", "path": ["promptImage", 0, "uri"], "message": "Image could not be decoded"},
            {"code": "too_big", "path": ["duration"], "message": "Number must be at most 10"},
            {"message": f"no path here, and the key {KEY} is scrubbed"},
            "not an issue",
            {"code": 7, "path": "promptText", "message": None},
        ],
        "docUrl": "https://docs.dev.runwayml.com/errors",
    }
    rec = Recorder(httpx.Response(400, json=body))
    with pytest.raises(BadRequest) as info:
        run(rec, lambda c: c.create("image_to_video", {}))
    err = info.value
    assert err.api_message == "Validation of body failed"
    assert err.issues == (
        ApiIssue("custom", ("promptImage", 0, "uri"), "Image could not be decoded"),
        ApiIssue("too_big", ("duration",), "Number must be at most 10"),
        ApiIssue(None, (), "no path here, and the key <secret> is scrubbed"),
    )
    assert KEY not in repr(err.issues)


@pytest.mark.parametrize("body", [{"error": "promptText is too long"}, {"error": "x", "issues": None}])
def test_issues_may_be_absent(body: dict[str, object]) -> None:
    rec = Recorder(httpx.Response(400, json=body))
    with pytest.raises(BadRequest) as info:
        run(rec, lambda c: c.create("text_to_video", {}))
    assert info.value.issues == ()


@pytest.mark.parametrize(
    "extra", [{}, {"failureCode": None}, {"failureCode": "SAFETY.INPUT.TEXT"}, {"failureCode": 3}]
)
def test_a_failed_task_may_have_no_failure_code(extra: dict[str, object]) -> None:
    data = {"id": "t1", "status": "FAILED", "failure": "It broke.", "cost": {"credits": 0}, **extra}
    task = Task.from_json(data)
    assert task.status == "FAILED" and task.is_over and task.failure == "It broke."
    code = extra.get("failureCode")
    assert task.failure_code == (code if isinstance(code, str) else None)
    rec = Recorder(httpx.Response(200, json=data))
    assert run(rec, lambda c: c.get_task("t1")) == task
