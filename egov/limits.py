"""Abuse limits of the web service, as a plain ASGI middleware (no per-request task
overhead): a body size limit on every POST, PUT and PATCH (413, the report pages' too) and a
token bucket per client address on the rate-limited paths (429 + Retry-After; per worker)."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from egov.auth import TokenBucket

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_upload(path: str) -> bool:
    """A path that takes an evidence file: the values API's evidence (base64 in JSON) and the
    cycle pages' value and evidence forms (multipart)."""
    return path.endswith("/evidence") or (path.startswith("/reports/cycle/") and path.endswith("/values"))


class GuardMiddleware:
    """Body size limit (413; `max_batch_body` for paths ending in /batch, `max_upload_body` for
    the paths that take an evidence file (`is_upload`), else `max_body`) and a token bucket per
    client address (429 + Retry-After) for the paths starting with one of `rate_limited`."""

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        max_batch_body: int,
        client_rate: int,
        rate_limited: tuple[str, ...],
        max_upload_body: int = 0,
    ) -> None:
        self.app = app
        self.max_upload_body = max(max_upload_body, max_body)
        self.max_body = max_body
        self.max_batch_body = max_batch_body
        self.clients = TokenBucket(client_rate)
        self.rate_limited = rate_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.rate_limited):
            client = (scope.get("client") or ("?", 0))[0]
            wait = self.clients.take(client)
            if wait:
                await send_json(send, 429, {"detail": "too many requests from this client"}, retry_after=wait)
                return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            limit = self.max_batch_body if path.endswith("/batch") else self.max_body
            if is_upload(path):
                limit = self.max_upload_body
            await self._limited_body(scope, receive, send, limit)
            return
        await self.app(scope, receive, send)

    async def _limited_body(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read the whole body, refusing it (413) past `limit` bytes (declared or received),
        then hand it on to the app in one message."""
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await send_json(send, 413, {"detail": f"request body larger than {limit} bytes"})
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await send_json(send, 413, {"detail": f"request body larger than {limit} bytes"})
                return
            chunks.append(body)
            more = message.get("more_body", False)
        whole = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def send_json(send: Send, status: int, body: dict[str, Any], retry_after: float = 0) -> None:
    """Answer with a JSON body straight on the ASGI `send` (with Retry-After when `retry_after`)."""
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
