"""A per-request time limit: an HTTP request still running after ``request_timeout`` seconds is cancelled.

Granian and Litestar have no such limit (Granian only bounds reading the request head, 30 s by default),
so this ASGI wrapper sits around the application. It covers reading the body too, so a client that
trickles its body in is cut off as well. A request cancelled before its answer started gets
503 `temporarily_unavailable` with `Retry-After`; once the answer has started it can only be cut short.
Cancellation rolls back the request's open transaction, as any other failure does.
"""

from __future__ import annotations

import asyncio

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from server.logs import note_error

RETRY_AFTER_SECONDS = 5
ERROR = "temporarily_unavailable"


class RequestTimeout:
    """ASGI wrapper: cancel an HTTP request after ``seconds`` (0: never) and answer 503 if still possible."""

    def __init__(self, app: ASGIApp, seconds: float, headers: dict[str, str]) -> None:
        self.app = app
        self.seconds = seconds
        self.headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        self.headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        self.headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not self.seconds:
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, receive, send_tracked)
        except TimeoutError:
            if not deadline.expired():
                raise
            note_error(scope, ERROR)
            if not started:
                await self._answer(send)

    async def _answer(self, send: Send) -> None:
        description = f"the request took longer than {self.seconds:g} s"
        body = f'{{"error":"{ERROR}","error_description":"{description}"}}'.encode()
        headers = [*self.headers, (b"content-length", str(len(body)).encode())]
        start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 503, "headers": headers}
        end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
        await send(start)
        await send(end)
