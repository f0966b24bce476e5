"""The Litestar application: `create_app(config)` wires the controllers, error handlers and lifecycle."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.types import ASGIApp, ExceptionHandlersMap

from server.config import ServerConfig
from server.context import Clock, ServerContext, system_clock
from server.errors import HttpError
from server.http import ROUTES
from server.http.fast_credential import CredentialFastPath
from server.http.responses import SECURITY_HEADERS
from server.keys import load_or_create_keys
from server.logs import AccessLog, configure_logging, log_server_error, note_error
from server.pki import load_or_create_pki
from server.store.database import Database, DatabaseUnavailableError
from server.store.migrate import upgrade
from server.timeouts import RequestTimeout


def create_app(config: ServerConfig, *, clock: Clock = system_clock, migrate: bool = True) -> Litestar:
    """Build the server for ``config``: keys and certificates made now, the database migrated on startup."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(config.log_file)
    database = Database(config.database)
    keys = load_or_create_keys(config)
    pki = load_or_create_pki(config, clock(), keys)
    context = ServerContext(config, database, keys, clock, pki=pki)

    async def on_startup() -> None:
        if migrate:
            await upgrade(database)

    async def on_shutdown() -> None:
        await database.close()

    def provide_context() -> ServerContext:
        return context

    exception_handlers: ExceptionHandlersMap = {
        HttpError: render_http_error,
        DatabaseUnavailableError: render_unavailable,
        ValidationException: render_validation_error,
        HTTPException: render_framework_error,
        Exception: render_server_error,
    }
    app = Litestar(
        route_handlers=ROUTES,
        dependencies={"context": Provide(provide_context, sync_to_thread=False)},
        exception_handlers=exception_handlers,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=config.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="cancuoc issuer backend",
            version="1.0.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        response_headers=None,
        after_request=add_security_headers,
        debug=False,
        logging_config=None,
    )
    # Outermost, so that it also times and counts requests that match no route (and timed-out ones).
    routes = CredentialFastPath(app.asgi_handler, context, exception_handlers)
    app.asgi_handler = AccessLog(RequestTimeout(routes, config.request_timeout, SECURITY_HEADERS))
    return app


async def add_security_headers(response: ASGIApp) -> ASGIApp:
    """`SECURITY_HEADERS` on a handler's `Response`; a ready ASGI answer (`JsonAnswer`) carries them."""
    if isinstance(response, Response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def error_response(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(
        {"error": error, "error_description": _printable(description)},
        status_code=status,
        headers={"Cache-Control": "no-store", **SECURITY_HEADERS, **(headers or {})},
    )


def render_http_error(request: Request[Any, Any, Any], exc: HttpError) -> Response[Any]:
    note_error(request.scope, exc.error)
    return error_response(exc.status, exc.error, exc.description, exc.headers)


def render_unavailable(request: Request[Any, Any, Any], exc: DatabaseUnavailableError) -> Response[Any]:
    note_error(request.scope, "temporarily_unavailable")
    return error_response(503, "temporarily_unavailable", "the database is unreachable", {"Retry-After": "5"})


def render_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    note_error(request.scope, "invalid_request")
    return error_response(400, "invalid_request", f"malformed request: {exc.detail}")


def render_server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything unexpected: logged by type and frames only (`server.logs`), answered with a bare 500."""
    log_server_error(request.scope, exc)
    note_error(request.scope, "server_error")
    return error_response(500, "server_error", "internal error")


def render_framework_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    codes = {
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }
    error = codes.get(exc.status_code, "invalid_request" if exc.status_code < 500 else "server_error")
    note_error(request.scope, error)
    return error_response(exc.status_code, error, exc.detail, dict(exc.headers or {}))


def _printable(text: str) -> str:
    """OID4VCI §8.3.1.2: error_description uses %x20-21 / %x23-5B / %x5D-7E only."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)[:300]
