"""HTTP plumbing: a threading server on a socket that hands each request to a dispatcher and writes its answer.

It never logs a request (the Authorization header stays private).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


@dataclass
class Response:
    status: int
    body: Any = None  # dict -> JSON, bytes -> raw
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    drop: bool = False  # hang up without answering
    delay: float = 0.0  # seconds to wait before answering (or hanging up)


def error(status: int, message: str, **headers: str) -> Response:
    """The API's error shape: ``{"error": message}``."""
    return Response(status, {"error": message}, headers)


class Dispatcher(Protocol):
    def dispatch(self, method: str, target: str, headers: Message, body: bytes) -> Response: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        super().__init__(address, _Handler)
        self.dispatcher = dispatcher

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients that hang up are expected
        pass


class _Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(
        self, format: str, *args: Any
    ) -> None:  # never log (the Authorization header stays private)
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            resp = self.server.dispatcher.dispatch(method, self.path, self.headers, body)
        except Exception as exc:  # a bug in the fake must not look like a hang
            resp = error(500, f"fake server error: {type(exc).__name__}: {exc}")
        if resp.delay:
            time.sleep(resp.delay)
        if resp.drop:
            self.close_connection = True
            return
        data = (
            b""
            if resp.body is None
            else resp.body
            if isinstance(resp.body, bytes)
            else json.dumps(resp.body).encode()
        )
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.status != 204:
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if resp.status != 204:
            self.wfile.write(data)
