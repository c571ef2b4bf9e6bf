"""Ephemeral uploads: ``POST /v1/uploads`` hands out a form, a multipart POST of it stores the file."""

from __future__ import annotations

import mimetypes
import secrets
import threading
import uuid
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, cast

from vidspec.testing.fake_runway.schemas import Invalid, check_upload
from vidspec.testing.fake_runway.transport import Response, error


class Uploads:
    """`table`: runway:// URI -> {filename, family, fields, data (None until the file is sent)}."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self.table: dict[str, dict[str, Any]] = {}

    def create(self, body: Any, base_url: str) -> Response:
        try:
            check_upload(body)
        except Invalid as exc:
            return Response(400, {"error": f"Validation of body failed: {exc}"})
        mime = mimetypes.guess_type(body["filename"])[0] or ""
        family = mime.split("/")[0]
        if family not in ("image", "video", "audio"):
            return error(400, f"filename: unsupported media type for {body['filename']!r}")
        uid = uuid.uuid4().hex
        fields = {"key": f"uploads/{uid}/{body['filename']}", "policy": secrets.token_urlsafe(24)}
        with self._lock:
            self.table[f"runway://uploads/{uid}"] = {"filename": body["filename"], "family": family,
                                                     "fields": fields, "data": None}  # fmt: skip
        return Response(
            200,
            {
                "uploadUrl": f"{base_url}/_uploads/{uid}",
                "fields": fields,
                "runwayUri": f"runway://uploads/{uid}",
            },
        )

    def receive(self, uid: str, headers: Message, body: bytes) -> Response:
        up = self.table.get(f"runway://uploads/{uid}")
        if up is None:
            return error(404, "no such upload")
        ctype = headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return error(400, "expected multipart/form-data")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        parts: dict[str, bytes] = {}
        for part in cast(EmailMessage, msg).iter_parts():
            payload = part.get_payload(decode=True)
            parts[str(part.get_param("name", header="content-disposition"))] = (
                payload if isinstance(payload, bytes) else b""
            )
        for k, v in up["fields"].items():
            if parts.get(k, b"").decode("utf-8", "replace") != v:
                return error(403, f"upload form field {k!r} missing or wrong")
        if "file" not in parts:
            return error(400, "upload form has no 'file' part")
        with self._lock:
            up["data"] = parts["file"]
        return Response(204)
