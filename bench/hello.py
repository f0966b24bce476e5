"""A bare ASGI hello world for granian: the machine's own HTTP floor, without Litestar or our code.

The issue measured granian's hello world at about 29,000 requests/s with one worker on this machine; the
bench serves this app the same way in each run, so a slow machine shows as a slow floor, not as a slow
issuer.
"""

from __future__ import annotations

from typing import Any

BODY = b"pong"
_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": BODY})
