"""The credential endpoint (OpenID4VCI 1.0 §8) answered straight from ASGI, in front of Litestar.

Litestar's routing, request object, parameter extraction and exception middleware cost a credential
request about as much CPU as its SQL (``python -m bench.inprocess --asgi`` against the service alone).
This wrapper takes only the plain case: ``POST /{issuer}/credential`` for one of our issuers, no root
path, a valid Host, a Content-Length that is absent or a number within the body limit. It answers it as
the route does: the same service, the same `JsonAnswer`, errors through the app's own exception
handlers. Anything else, and a body that turns out too large or a client that leaves while sending it,
goes to Litestar with what was read so far replayed, so that Litestar answers it exactly as before.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar._asgi.utils import is_valid_host
from litestar.enums import ScopeType
from litestar.types import ASGIApp, ExceptionHandlersMap, Receive, ReceiveMessage, Scope, Send

from server.context import ServerContext
from server.http.responses import JsonAnswer
from server.services.catalog import CONFIGURATIONS_BY_ISSUER
from server.services.issuance import issue_credentials

PATH_TEMPLATE = "/{issuer}/credential"
"""The route's template as Litestar records it in the scope (the access line's ``path``)."""
_WANTED = (b"host", b"content-length", b"content-type", b"authorization")


class CredentialFastPath:
    """ASGI wrapper: plain credential requests to `issue_credentials`, everything else to ``app``."""

    def __init__(
        self, app: ASGIApp, context: ServerContext, exception_handlers: ExceptionHandlersMap
    ) -> None:
        self.app = app
        self.context = context
        self.handlers = exception_handlers
        self.paths = {f"/{issuer}/credential": issuer for issuer in CONFIGURATIONS_BY_ISSUER}
        self.limit = context.config.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        issuer = self.paths.get(scope["path"]) if scope["type"] == ScopeType.HTTP else None
        if issuer is None or scope.get("method") != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        headers = _first_headers(scope)
        host, length = headers.get(b"host"), headers.get(b"content-length")
        if (host is not None and not is_valid_host(host)) or not self._length_fits(length):
            await self.app(scope, receive, send)
            return
        body, received = await self._read_body(receive)
        if body is None:
            await self.app(scope, _replay(received, receive), send)
            return
        scope["path_template"] = PATH_TEMPLATE
        scope["path_params"] = {"issuer": issuer}
        authorization, content_type = headers.get(b"authorization"), headers.get(b"content-type")
        try:
            issued = await issue_credentials(
                self.context,
                issuer,
                None if authorization is None else authorization.decode("latin-1"),
                None if content_type is None else content_type.decode("latin-1"),
                body,
            )
        except Exception as exc:  # answered as Litestar's exception middleware would
            await self._answer_error(scope, receive, send, exc)
            return
        await JsonAnswer(issued)(scope, receive, send)

    def _length_fits(self, length: bytes | None) -> bool:
        """As Litestar reads Content-Length: absent, or what ``int()`` makes of it, within the limit."""
        if length is None:
            return True
        try:
            return int(length.decode("latin-1")) <= self.limit
        except ValueError:
            return False

    async def _read_body(self, receive: Receive) -> tuple[bytes | None, list[ReceiveMessage]]:
        """The whole body, or None (too large, or the client left) with the messages read so far."""
        received: list[ReceiveMessage] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                return None, received
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None, received
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), received

    async def _answer_error(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        handler = next(self.handlers[kind] for kind in type(exc).__mro__ if kind in self.handlers)
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        response = handler(request, exc)
        await response.to_asgi_response(None, request)(scope, receive, send)


def _first_headers(scope: Scope) -> dict[bytes, bytes]:
    """The first value of each header the route reads (Litestar's header lookups take the first)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        # Litestar matches the Host header's name as sent, the others case-insensitively.
        key = name if name == b"host" else name.lower()
        if key in _WANTED and key not in found:
            found[key] = value
    return found


def _replay(received: list[ReceiveMessage], receive: Receive) -> Receive:
    pending = list(received)

    async def replayed() -> Any:
        return pending.pop(0) if pending else await receive()

    return replayed
