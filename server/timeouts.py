"""A per-request time limit: an HTTP request still running after ``request_timeout`` seconds is cancelled.

Granian and Litestar have no such limit (Granian only bounds reading the request head, 30 s by default),
so this ASGI wrapper sits around the application. It covers reading the body too, so a client that
trickles its body in is cut off as well. A request cancelled before its answer started gets
503 `temporarily_unavailable` with `Retry-After`; once the answer has started it can only be cut short.
Cancellation rolls back the request's open transaction, as any other failure does.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

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


class _Deadlines:
    """One event loop's running requests, earliest deadline first, and one timer for the earliest.

    Every request has the same time limit, so insertion order is deadline order: a request costs a dict
    entry, not a timer of its own as `asyncio.timeout` would.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.running: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.timer: asyncio.TimerHandle | None = None

    def add(self, task: asyncio.Task[Any], deadline: float) -> None:
        self.running[task] = deadline
        if self.timer is None:
            self.timer = self.loop.call_at(deadline, self.expire)

    def expire(self) -> None:
        self.timer = None
        now = self.loop.time()
        for task, deadline in list(self.running.items()):
            if deadline > now:
                self.timer = self.loop.call_at(deadline, self.expire)
                return
            del self.running[task]
            self.expired.add(task)
            task.cancel()


class RequestTimeout:
    """ASGI wrapper: cancel an HTTP request after ``seconds`` (0: never) and answer 503 if still possible."""

    def __init__(self, app: ASGIApp, seconds: float, headers: dict[str, str]) -> None:
        self.app = app
        self.seconds = seconds
        self.headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        self.headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        self.headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != ScopeType.HTTP or not self.seconds or task is None:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadlines = self._loops.get(loop)
        if deadlines is None:
            deadlines = self._loops[loop] = _Deadlines(loop)
        started, cancelling = False, task.cancelling()

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        deadlines.add(task, loop.time() + self.seconds)
        try:
            await self.app(scope, receive, send_tracked)
        except asyncio.CancelledError:
            # Ours only if nobody else cancelled the request too (as `asyncio.timeout` decides).
            ours = task in deadlines.expired
            deadlines.expired.discard(task)
            if not ours or task.uncancel() > cancelling:
                raise
            note_error(scope, ERROR)
            if not started:
                await self._answer(send)
        finally:
            deadlines.running.pop(task, None)
            if task in deadlines.expired:  # cancelled, but finished without seeing it
                deadlines.expired.discard(task)
                task.uncancel()

    async def _answer(self, send: Send) -> None:
        description = f"the request took longer than {self.seconds:g} s"
        body = f'{{"error":"{ERROR}","error_description":"{description}"}}'.encode()
        headers = [*self.headers, (b"content-length", str(len(body)).encode())]
        start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 503, "headers": headers}
        end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
        await send(start)
        await send(end)
