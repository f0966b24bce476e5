"""Server logs: one JSON object per line, made only of fields that cannot carry a secret or a citizen's data.

Every line has ``time``, ``level``, ``logger``, ``event`` and ``pid``; access lines add the method, the route
*template* (``/verifier/response/{transaction_id}``, never the raw path), the status, ``duration_ms`` and a
request id that the response also carries as ``X-Request-Id``. Extra fields pass an allow-list. A 4xx line
names the error code only (its description may name a citizen); a 5xx line names the exception's type and the
frames of its traceback, never its message nor any local value. Bodies, headers and query strings are never
read for logging. The offer outbox (tx_codes for SMS) lives in the database only and is never logged.
"""

from __future__ import annotations

import logging
import logging.config
import os
import secrets
import sys
import time
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = "cancuoc"
ACCESS_LOGGER = "cancuoc.access"
ERROR_LOGGER = "cancuoc.error"
REQUEST_ID_HEADER = "X-Request-Id"
SAFE_FIELDS = frozenset(
    {
        "method",
        "path",
        "issuer",
        "status",
        "duration_ms",
        "request_id",
        "error",
        "exception",
        "causes",
        "traceback",
        "host",
        "port",
        "workers",
        "public_url",
        "log_file",
    }
)
"""The only extra fields a line may carry; anything else given in ``fields`` is dropped."""
MAX_FRAMES = 30
_ISSUERS = frozenset({"mps", "vss"})
_STATE_ERROR = "cancuoc.log.error"
_STATE_REQUEST_ID = "cancuoc.log.request_id"
_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: the fixed fields, the allowed ``fields``, an exception's shape."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            line.update({k: v for k, v in fields.items() if k in SAFE_FIELDS})
        if record.exc_info and record.exc_info[1] is not None:
            line.update(describe_exception(record.exc_info[1]))
        return _encoder.encode(line).decode()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written (as `logging.lastResort` does)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """The exception's type, the types of its causes and its frames as ``file:line in function``.

    The message is left out on purpose: a database error quotes its bound parameters, a parser its input.
    """
    causes: list[str] = []
    seen = {id(exc)}
    current = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        causes.append(_type_name(current))
        current = current.__cause__ or current.__context__
    frames = [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__)]
    described: dict[str, Any] = {"exception": _type_name(exc), "traceback": frames[-MAX_FRAMES:]}
    if causes:
        described["causes"] = causes
    return described


def logging_config(log_file: Path | None) -> dict[str, Any]:
    """A `logging.config.dictConfig` for a whole process, granian's loggers included."""
    handler: dict[str, Any] = {"()": StderrHandler, "formatter": "json"}
    if log_file is not None:
        handler = {
            "class": "logging.FileHandler",
            "filename": str(log_file),
            "encoding": "utf-8",
            "formatter": "json",
        }
    quiet = {"handlers": ["json"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "loggers": {
            "_granian": {**quiet, "level": "INFO"},
            "granian.access": {**quiet, "level": "WARNING"},
            LOGGER: {**quiet, "level": "INFO"},
        },
        "root": {"handlers": ["json"], "level": "WARNING"},
    }


def configure_logging(log_file: Path | None) -> None:
    """Send the ``cancuoc`` loggers to stderr or ``log_file`` as JSON lines; once per destination.

    A process that granian configured with `logging_config` already has the right handler and is left
    alone; other processes (uvicorn, tests) get a handler on the ``cancuoc`` logger only.
    """
    logger = logging.getLogger(LOGGER)
    target = None if log_file is None else os.path.abspath(log_file)
    ours = [h for h in logger.handlers if isinstance(h.formatter, JsonFormatter)]
    if any(getattr(h, "baseFilename", None) == target for h in ours):
        return
    for handler in ours:
        logger.removeHandler(handler)
        handler.close()
    new: logging.Handler = (
        StderrHandler() if log_file is None else logging.FileHandler(log_file, "a", "utf-8")
    )
    new.setFormatter(JsonFormatter())
    logger.addHandler(new)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_event(event: str, *, level: int = logging.INFO, **fields: object) -> None:
    """One line from the ``cancuoc`` logger with allowed ``fields``."""
    logging.getLogger(LOGGER).log(level, event, extra={"fields": fields})


def note_error(scope: Scope, error: str) -> None:
    """Remember the error code of the response being sent, for its access line."""
    scope.setdefault("state", {})[_STATE_ERROR] = error


def log_server_error(scope: Scope, exc: BaseException) -> None:
    """A 5xx: the exception's type and frames (`describe_exception`) with the request's id and route."""
    logging.getLogger(ERROR_LOGGER).error(
        "server error",
        extra={"fields": {**_route(scope), "request_id": _state(scope).get(_STATE_REQUEST_ID)}},
        exc_info=(type(exc), exc, exc.__traceback__),
    )


class AccessLog:
    """ASGI wrapper: one access line per HTTP request, and its request id in the response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        request_id = secrets.token_hex(8)
        _state(scope)[_STATE_REQUEST_ID] = request_id

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            fields = {
                **_route(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": request_id,
            }
            if error := _state(scope).get(_STATE_ERROR):
                fields["error"] = error
            level = logging.WARNING if status >= 500 else logging.INFO
            logger = self.logger
            if logger.isEnabledFor(level):
                # `Logger.log` without its stack walk (`findCaller`): no formatter here reads the source line.
                extra = {"fields": fields}
                logger.handle(
                    logger.makeRecord(
                        logger.name, level, "(unknown file)", 0, "request", (), None, extra=extra
                    )
                )


def _route(scope: Scope) -> dict[str, object]:
    """Method, route template and issuer of a request: nothing a client chose beyond a known value."""
    method = str(scope.get("method", ""))
    route: dict[str, object] = {
        "method": method if method.isalpha() and method.isupper() and len(method) <= 10 else "OTHER",
        "path": scope.get("path_template") or None,
    }
    issuer = (scope.get("path_params") or {}).get("issuer")
    if issuer in _ISSUERS:
        route["issuer"] = issuer
    return route


_second: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, the seconds made once."""
    global _second
    second = int(created)
    micros = round((created - second) * 1e6)  # rounded half to even, as `datetime.fromtimestamp` does
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    cached = _second
    if cached[0] != second:
        cached = _second = (second, datetime.fromtimestamp(second, UTC).isoformat()[:-6])
    return f"{cached[1]}.{micros // 1000:03d}+00:00"


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
