"""`/health`: is the server up and can it reach its database."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from server.context import Context
from server.http.responses import answer


@get("/health", cache=False, responses={503: answer("The database is unreachable", dict[str, str])})
async def health(context: Context) -> Response[dict[str, Any]]:
    """200 when the database answers, 503 when it does not."""
    reachable = await context.database.ping()
    body = {
        "status": "ok" if reachable else "degraded",
        "database": "reachable" if reachable else "unreachable",
    }
    return Response(body, status_code=200 if reachable else 503, headers={"Cache-Control": "no-store"})


@get("/ping", cache=False, media_type="text/plain", include_in_schema=False)
async def ping() -> str:
    """A hello-world of this app: no database, no crypto; `make bench` measures issuance beside it."""
    return "pong"
