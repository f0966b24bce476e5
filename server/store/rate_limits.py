"""Rate limit counters in the database, so that every worker and every server on it shares them.

One row per key (a limit's name and a client address): when its window started (Unix seconds) and how
many hits it has counted since. A hit is one atomic upsert that starts a new window once the old one has
passed, so two workers can never both see the same count.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import BigInteger, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from server.store.database import Connection
from server.store.schema import rate_limits

_NOW = bindparam("now", type_=BigInteger)
_CUTOFF = bindparam("cutoff", type_=BigInteger)
_EXPIRED = rate_limits.c.window_start <= _CUTOFF
_FIND = select(rate_limits.c.count, rate_limits.c.window_start).where(
    rate_limits.c.key == bindparam("key"), rate_limits.c.window_start > _CUTOFF
)
_PURGE = delete(rate_limits).where(_EXPIRED)


def _hit_statement(dialect: Any) -> Any:
    statement = dialect.insert(rate_limits).values(key=bindparam("key"), window_start=_NOW, count=1)
    return statement.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "count": case((_EXPIRED, 1), else_=rate_limits.c.count + 1),
            "window_start": case((_EXPIRED, _NOW), else_=rate_limits.c.window_start),
        },
    ).returning(rate_limits.c.count, rate_limits.c.window_start)


# Built once per dialect: the token endpoint runs one of these on every request.
_HIT = {"postgresql": _hit_statement(postgresql), "sqlite": _hit_statement(sqlite)}


class Window(NamedTuple):
    """A key's current window: hits counted in it, and when it started (Unix seconds)."""

    hits: int
    started: int


async def hit(connection: Connection, key: str, *, now: int, window: int) -> Window:
    """Count one hit on ``key`` (a new window if the last one began ``window`` seconds ago or more)."""
    parameters = {"key": key, "now": now, "cutoff": now - window}
    row = (await connection.execute(_HIT[connection.dialect.name], parameters)).one()
    return Window(int(row.count), int(row.window_start))


async def current(connection: Connection, key: str, *, now: int, window: int) -> Window | None:
    """The hits on ``key`` in its live window, or None when it has none."""
    row = (await connection.execute(_FIND, {"key": key, "cutoff": now - window})).first()
    return None if row is None else Window(int(row.count), int(row.window_start))


async def purge(connection: Connection, *, before: int) -> None:
    """Forget windows that started at or before ``before`` (Unix seconds): they can no longer count."""
    await connection.execute(_PURGE, {"cutoff": before})
