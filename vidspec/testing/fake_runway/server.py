"""The fake API itself: its state (tasks, organisation, faults, logs) and its routes.

The server never prints or logs the Authorization header; ``raw_log`` keeps it redacted.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from vidspec.testing.fake_media import MediaCache
from vidspec.testing.fake_runway import faults, states
from vidspec.testing.fake_runway.faults import ENTRY_FAULTS, Fault
from vidspec.testing.fake_runway.outputs import OutputPlanner
from vidspec.testing.fake_runway.prices import fake_credits
from vidspec.testing.fake_runway.schemas import ALL_MODELS, ENDPOINT_MODELS, Ctx, Invalid, check_create
from vidspec.testing.fake_runway.states import OVER, Task
from vidspec.testing.fake_runway.transport import Response, Server, error
from vidspec.testing.fake_runway.uploads import Uploads

API_VERSION = "2024-11-06"


@dataclass
class RequestRecord:
    method: str
    path: str
    json: Any
    headers: dict[str, str]  # without Authorization
    auth_present: bool
    time: float


class FakeRunway:
    """The fake API. All public methods are thread-safe.

    latency: seconds from create to over, per task (or a function of (endpoint, model)); the first
    ``pending_fraction`` of it is PENDING, the rest RUNNING. A task waits THROTTLED while its model is at
    ``concurrency``. valid_keys=None accepts any non-empty Bearer key.
    """

    def __init__(
        self,
        latency: float | Callable[[str, str], float] = 0.3,
        *,
        pending_fraction: float = 0.2,
        valid_keys: set[str] | None = None,
        credit_balance: int = 100_000,
        concurrency: int | Mapping[str, int | None] = 2,
        daily_limit: int | None = None,
        max_monthly_credit_spend: int = 1_000_000,
        output_scale: float = 0.25,
        url_ttl: float = 3600.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.pending_fraction = pending_fraction
        self.valid_keys = valid_keys
        self.output_scale = output_scale
        self.url_ttl = url_ttl
        self.host, self.port = host, port
        self.url = ""
        self._lock = threading.RLock()
        self._concurrency: dict[str, int | None] = {m: 2 for m in ALL_MODELS}
        self._daily: dict[str, int | None] = {m: daily_limit for m in ALL_MODELS}
        self._monthly = max_monthly_credit_spend
        self._balance_base = 0
        self.tasks: dict[str, Task] = {}
        self.set_org(credit_balance=credit_balance, concurrency=concurrency)
        self._uploads = Uploads(self._lock)
        self._urls: dict[str, tuple[str, float]] = {}
        self._outputs = OutputPlanner()
        self.faults: list[Fault] = []
        self.media = MediaCache()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.reset_counters()

    # -- lifecycle
    def start(self) -> FakeRunway:
        self._server = Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.media.close()

    def __enter__(self) -> FakeRunway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration
    def set_org(
        self,
        credit_balance: int | None = None,
        concurrency: int | Mapping[str, int | None] | None = None,
        daily_limit: int | Mapping[str, int | None] | None = None,
        max_monthly_credit_spend: int | None = None,
    ) -> None:
        """concurrency / daily_limit: one int for every model, or {model: n or None (no limit)}."""
        with self._lock:
            if credit_balance is not None:
                self._balance_base = credit_balance + self._spent()
            for table, value in ((self._concurrency, concurrency), (self._daily, daily_limit)):
                if isinstance(value, int):
                    table.update(dict.fromkeys(ALL_MODELS, value))
                elif value is not None:
                    table.update(value)
            if max_monthly_credit_spend is not None:
                self._monthly = max_monthly_credit_spend

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        model: str | None = None,
        task_id: str | None = None,
        **params: Any,
    ) -> Fault:
        """Arm a fault; see FAULT_KINDS. Params: retry_after (http_429/503), delay and then="drop"|"respond"
        (timeout_after_create), code, failure, charged, failure_code="present"|"null"|"absent" (task_failed),
        issues, message, docUrl (bad_request: a 400 answer to a create)."""
        fault = faults.new_fault(kind, times, path, method, model, task_id, dict(params))
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def reset_counters(self) -> None:
        with self._lock:
            self._requests: list[RequestRecord] = []
            self._creates: list[tuple[str, dict[str, Any], str]] = []
            self._raw = bytearray()
            self.downloads = 0
            self.download_attempts = 0
            self.polls = 0
            self.task_polls: dict[str, int] = {}

    # -- accounting
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def creates(self) -> list[tuple[str, dict[str, Any], str]]:
        with self._lock:
            return list(self._creates)

    @property
    def raw_log(self) -> bytes:
        with self._lock:
            return bytes(self._raw)

    def create_count(self, endpoint: str | None = None) -> int:
        ep = endpoint.removeprefix("/v1/") if endpoint else None
        with self._lock:
            return sum(1 for e, _, _ in self._creates if ep is None or e == ep)

    def credit_balance(self) -> int:
        with self._lock:
            return self._balance_base - self._spent()

    def task_status(self, task_id: str) -> str:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            return states.status(self.tasks[task_id], now)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            return {
                "requests": len(self._requests),
                "request_log": [
                    {"method": r.method, "path": r.path, "auth_present": r.auth_present}
                    for r in self._requests
                ],
                "creates": [{"endpoint": e, "body": b, "task_id": t} for e, b, t in self._creates],
                "create_count": self.create_count(),
                "downloads": self.downloads,
                "download_attempts": self.download_attempts,
                "polls": self.polls,
                "task_polls": dict(self.task_polls),
                "tasks": {
                    t.id: {
                        "status": states.status(t, now),
                        "endpoint": t.endpoint,
                        "model": t.model,
                        "credits": t.credits,
                        "cost": states.cost(t, now),
                    }
                    for t in self.tasks.values()
                },  # fmt: skip
                "faults": [
                    {"kind": f.kind, "times": f.times, "fired": f.fired, "path": f.path} for f in self.faults
                ],
                "credit_balance": self.credit_balance(),
                "renders": self.media.renders,
            }

    def _advance(self, now: float) -> None:
        states.advance(self.tasks.values(), self._concurrency, now)

    def _spent(self) -> int:
        now = time.monotonic()
        return sum(states.cost(t, now) for t in self.tasks.values())

    # -- request handling
    def _take(self, kinds: tuple[str, ...], path: str, method: str, model: str | None = None,
              task_id: str | None = None) -> Fault | None:  # fmt: skip
        return faults.take(self.faults, kinds, path, method, model, task_id)

    def _record(self, method: str, target: str, headers: Message, body: bytes) -> None:
        auth = headers.get("Authorization")
        raw = [f"{method} {target} HTTP/1.1"]
        raw += [f"{k}: {'[REDACTED]' if k.lower() == 'authorization' else v}" for k, v in headers.items()]
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        kept = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        rec = RequestRecord(method, urlsplit(target).path, parsed, kept, auth is not None, time.time())
        with self._lock:
            self._requests.append(rec)
            self._raw += ("\r\n".join(raw) + "\r\n\r\n").encode("latin-1", "replace") + body + b"\r\n"

    def dispatch(self, method: str, target: str, headers: Message, body: bytes) -> Response:
        path = urlsplit(target).path
        if path.startswith("/_admin/"):
            return self._admin(method, path, body)
        self._record(method, target, headers, body)
        with self._lock:
            fault = self._take(ENTRY_FAULTS, path, method)
        if fault is not None:
            return faults.entry_response(fault)
        if path.startswith("/_uploads/") and method == "POST":
            return self._uploads.receive(path.rsplit("/", 1)[-1], headers, body)
        if path.startswith("/outputs/") and method == "GET":
            return self._download(path)
        if not path.startswith("/v1/"):
            return error(404, f"not found: {path}")
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return error(401, "missing or malformed Authorization header (expected 'Bearer <key>')")
        if self.valid_keys is not None and auth[7:].strip() not in self.valid_keys:
            return error(401, "invalid API key")
        if headers.get("X-Runway-Version") != API_VERSION:
            return error(400, f"X-Runway-Version header must be {API_VERSION!r}")
        route = path[len("/v1/") :]
        if route in ENDPOINT_MODELS or route in ("uploads", "organization"):
            expected = "GET" if route == "organization" else "POST"
            if method != expected:
                return error(405, f"method {method} not allowed on {path}")
            if route == "organization":
                return self._organization()
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                return error(400, "request body is not valid JSON")
            return (
                self._uploads.create(payload, self.url)
                if route == "uploads"
                else self._create(route, payload)
            )
        if route.startswith("tasks/") and route.count("/") == 1:
            if method == "GET":
                return self._get_task(route[6:])
            if method == "DELETE":
                return self._delete_task(route[6:])
            return error(405, f"method {method} not allowed on {path}")
        return error(404, f"not found: {path}")

    def _create(self, endpoint: str, body: Any) -> Response:
        ctx = Ctx(self._uploads.table)
        try:
            model = check_create(endpoint, body, ctx)
            kind, w, h, seconds, audio = self._outputs.plan(
                endpoint, model, body, ctx.assets, self.output_scale
            )
        except Invalid as exc:
            return Response(400, {"error": f"Validation of body failed: {exc}", "issues": [exc.issue()]})
        credits = fake_credits(endpoint, model, body, seconds)
        path = f"/v1/{endpoint}"
        with self._lock:
            refused = self._take(("bad_request",), path, "POST", model)
        if refused is not None:
            return faults.bad_request_response(refused)
        with self._lock:
            limit = self._daily.get(model)
            if limit is not None and sum(1 for t in self.tasks.values() if t.model == model) >= limit:
                return error(429, f"daily generation limit of {limit} reached for {model}")
            if credits > self.credit_balance():
                return error(400, "You do not have enough credits to run this task.")
            tid = str(uuid.uuid4())
            created_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            lat = float(self.latency(endpoint, model) if callable(self.latency) else self.latency)
            task = Task(tid, endpoint, model, body, time.monotonic(), created_at, lat, lat * self.pending_fraction,
                        credits, kind, w, h, seconds, audio)  # fmt: skip
            fail = self._take(("task_failed",), path, "POST", model)
            if fail is not None:
                faults.fail_task(task, fail)
            self.tasks[tid] = task
            self._creates.append((endpoint, body, tid))
            hold = self._take(("timeout_after_create",), path, "POST", model)
        if fail is None:
            self.media.submit(kind, w, h, seconds, audio)  # render in the background while the task "runs"
        if hold is not None:
            return faults.held_create_response(hold, tid)
        return Response(200, {"id": tid, "estimatedCost": {"credits": credits}})

    def _organization(self) -> Response:
        with self._lock:
            tier = {m: {"maxConcurrentGenerations": self._concurrency.get(m), "maxDailyGenerations": self._daily.get(m)}
                    for m in ALL_MODELS}  # fmt: skip
            usage = {
                m: {"dailyGenerations": sum(1 for t in self.tasks.values() if t.model == m)}
                for m in ALL_MODELS
            }
            return Response(200, {"creditBalance": self.credit_balance(),
                                  "tier": {"maxMonthlyCreditSpend": self._monthly, "models": tier},
                                  "usage": {"models": usage}})  # fmt: skip

    def _get_task(self, tid: str) -> Response:
        with self._lock:
            self.polls += 1
            self.task_polls[tid] = self.task_polls.get(tid, 0) + 1
            t = self.tasks.get(tid)
            if (
                t is not None
                and not t.gone
                and self._take(("task_gone",), f"/v1/tasks/{tid}", "GET", t.model, tid)
            ):
                t.gone = True
            if t is None or t.deleted or t.gone:
                return error(404, "Task not found")
            now = time.monotonic()
            self._advance(now)
            status = states.status(t, now)
            out: dict[str, Any] = {"id": t.id, "status": status, "createdAt": t.created_at}
            if status in OVER:
                out["cost"] = {"credits": states.cost(t, now)}
            else:
                out["estimatedCost"] = {"credits": t.credits}
            if status == "RUNNING" and t.started is not None:
                out["progress"] = states.progress(t, now)
            elif status == "SUCCEEDED":
                token = secrets.token_urlsafe(16)
                self._urls[token] = (t.id, now + self.url_ttl)
                ext = {"video": "mp4", "image": "png", "audio": "wav"}[t.kind]
                out["output"] = [f"{self.url}/outputs/{token}/{t.id}.{ext}"]
            elif status == "FAILED":
                out["failure"] = t.fail_text
                if t.fail_code_field != "absent":
                    out["failureCode"] = None if t.fail_code_field == "null" else t.fail_code
            return Response(200, out)

    def _delete_task(self, tid: str) -> Response:
        with self._lock:
            t = self.tasks.get(tid)
            if t is None or t.deleted or t.gone:
                return error(404, "Task not found")
            now = time.monotonic()
            self._advance(now)
            states.delete(t, now)
            return Response(204)

    def _download(self, path: str) -> Response:
        parts = path.split("/")
        with self._lock:
            self.download_attempts += 1
            entry = self._urls.get(parts[2]) if len(parts) == 4 else None
            if entry is None:
                return error(404, "no such output")
            if time.monotonic() > entry[1] or self._take(("expired_output",), path, "GET"):
                return Response(403, b"Request has expired", content_type="text/plain")
            t = self.tasks[entry[0]]
        data = self.media.get(t.kind, t.width, t.height, t.seconds, t.audio).read_bytes()
        with self._lock:
            self.downloads += 1
        ctype = {"video": "video/mp4", "image": "image/png", "audio": "audio/wav"}[t.kind]
        return Response(200, data, content_type=ctype)

    # -- test control, also over HTTP for FakeRunwayProcess (never recorded, never faulted)
    def _admin(self, method: str, path: str, body: bytes) -> Response:
        try:
            args = json.loads(body) if body else {}
            if path == "/_admin/stats" and method == "GET":
                return Response(200, self.stats())
            if path == "/_admin/raw_log" and method == "GET":
                return Response(200, self.raw_log, content_type="application/octet-stream")
            if path == "/_admin/inject" and method == "POST":
                kind = args.pop("kind", None) or args.pop("fault")
                self.inject(kind, **args)
                return Response(200, {"ok": True})
            if path == "/_admin/set_org" and method == "POST":
                self.set_org(**args)
                return Response(200, {"ok": True})
            if path == "/_admin/config" and method == "POST":
                for k in ("latency", "url_ttl", "output_scale", "pending_fraction"):
                    if k in args:
                        setattr(self, k, float(args[k]))
                return Response(200, {"ok": True})
            if path in ("/_admin/reset", "/_admin/clear_faults") and method == "POST":
                self.reset_counters() if path.endswith("reset") else self.clear_faults()
                return Response(200, {"ok": True})
        except (ValueError, TypeError, KeyError) as exc:
            return error(400, f"bad admin request: {exc}")
        return error(404, f"no admin route {method} {path}")
