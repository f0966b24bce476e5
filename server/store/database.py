"""The one connection to the database: SQLite (embedded default) or PostgreSQL, through SQLAlchemy Core.

PostgreSQL runs on the async engine (asyncpg). SQLite runs on SQLAlchemy's synchronous pysqlite engine,
called directly on the event loop: a statement costs microseconds there, against about half a
millisecond through aiosqlite's thread hop, and a transaction that never yields cannot interleave with
another coroutine of the same worker. Writers take the lock up front (BEGIN IMMEDIATE) so that two
workers wait for each other (busy timeout) instead of failing on a lock upgrade.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import msgspec
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server.store.groups import GroupCommit
from server.store.prepared import find_prepared

SQLITE_BUSY_TIMEOUT_MS = 10_000
_SQLITE_UNAVAILABLE = frozenset({"database is locked", "unable to open database file", "disk I/O error"})
T = TypeVar("T")


class DatabaseUnavailableError(Exception):
    """The database cannot be reached; requests get 503 until it returns."""


class Connection(Protocol):
    """What store functions use: ``await connection.execute(statement[, parameters])`` and its dialect."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Any, parameters: Any = None, /) -> Any: ...


class _SqliteConnection:
    """A synchronous SQLAlchemy connection behind the same awaitable `execute` as the async one.

    Statements marked `prepared` run on the driver's cursor directly (see `server.store.prepared`).
    """

    __slots__ = ("_connection", "_cursor")

    def __init__(self, connection: SyncConnection) -> None:
        self._connection = connection
        self._cursor: Any = None

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, /) -> Any:
        fast = find_prepared(statement)
        if fast is not None:
            if self._cursor is None:
                self._cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            rows = fast.run(self._cursor, self._connection.dialect, parameters)
            if rows is not None:
                return rows
        return self._connection.execute(statement, parameters)


class Database:
    """Owns the engine; every query of the server runs inside `transaction()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._sqlite: Engine | None = None
        self._async: AsyncEngine | None = None
        self._gate = asyncio.Lock()
        self._groups = GroupCommit(self.transaction, self._sqlite_reading)
        if self.is_sqlite:
            self._sqlite = create_engine(
                url.replace("+aiosqlite", "", 1),
                connect_args={"timeout": 0, "isolation_level": None},
                pool_use_lifo=True,
                # JSON columns (registry records, configuration ids) read back by msgspec: the same
                # values as the json module gives for what json.dumps stored, in a fraction of its time.
                json_deserializer=msgspec.json.decode,
            )
            event.listen(self._sqlite, "connect", _sqlite_pragmas)
        else:
            # SQLAlchemy's default, 5 kept and 10 more opened and closed again under load, reconnected all
            # the time under load (600 sessions a minute in bench's soak): the same 15, kept once opened.
            self._async = create_async_engine(url, pool_pre_ping=True, pool_size=15, max_overflow=0)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection inside BEGIN … COMMIT (rolled back on error).

        `DatabaseUnavailableError` when the database cannot be reached, or when SQLite's write lock stays
        taken for `SQLITE_BUSY_TIMEOUT_MS` counted from this call (requests queued behind the gate share
        that wait instead of adding theirs up).
        """
        try:
            if self._sqlite is not None:
                deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
                # One SQLite transaction per worker at a time: a waiting coroutine holds no pooled connection.
                async with self._gate, self._sqlite_connection(deadline) as connection:
                    try:
                        yield _SqliteConnection(connection)
                    except BaseException:
                        connection.rollback()
                        raise
                    connection.commit()
            else:
                async with self._postgres_transaction() as async_connection:
                    yield async_connection
        except (OperationalError, DBAPIError) as exc:
            if _is_unreachable(exc):
                raise DatabaseUnavailableError(str(exc.orig)) from exc
            raise

    async def grouped_after_read(
        self, read: Callable[[Connection], Awaitable[Callable[[Connection], Awaitable[T]]]]
    ) -> T:
        """``unit = await read(connection)``, then ``await unit(connection)`` in a transaction: the unit's
        result once that has committed.

        On SQLite the units that queue up in this worker share one transaction, each in a savepoint
        (`server.store.groups`), and ``read`` runs before that transaction begins: whatever slow work it
        does besides reading holds no write lock; it sees the last commit, and the unit must check in its
        transaction whatever another writer may have changed since. On PostgreSQL both run in one
        transaction of their own.
        """
        if self._sqlite is not None:
            try:
                return await self._groups.run_after_read(read)
            except DBAPIError as exc:  # a unit's own database error, caught before the transaction saw it
                if _is_unreachable(exc):
                    raise DatabaseUnavailableError(str(exc.orig)) from exc
                raise
        async with self.transaction() as connection:
            unit = await read(connection)
            return await unit(connection)

    @asynccontextmanager
    async def _sqlite_reading(self) -> AsyncIterator[Connection]:
        """The worker's SQLite connection outside any transaction (reads see the last commit)."""
        assert self._sqlite is not None  # noqa: S101
        # Not behind the gate: a transaction waiting there for the write lock must not delay the reads (nor
        # add its wait to theirs). The pool hands out the connection returned last, the one whose page
        # cache the worker's own commits keep warm.
        with self._sqlite.connect() as connection:
            try:
                yield _SqliteConnection(connection)
            finally:
                connection.rollback()  # ends SQLAlchemy's record of a transaction; SQLite has none open

    async def run_sync(self, function: Callable[[SyncConnection], T]) -> T:
        """Run ``function`` on a synchronous connection inside a transaction (Alembic needs one)."""
        if self._sqlite is not None:
            deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
            async with self._gate, self._sqlite_connection(deadline) as connection:
                result = function(connection)
                connection.commit()
                return result
        assert self._async is not None  # noqa: S101
        async with self._async.begin() as async_connection:
            return await async_connection.run_sync(function)

    @asynccontextmanager
    async def _sqlite_connection(self, deadline: float) -> AsyncIterator[SyncConnection]:
        assert self._sqlite is not None  # noqa: S101
        with self._sqlite.connect() as connection:
            await _begin_immediate(connection, deadline)
            yield connection

    @asynccontextmanager
    async def _postgres_transaction(self) -> AsyncIterator[AsyncConnection]:
        assert self._async is not None  # noqa: S101 - one of the two engines always exists
        connection = self._async.connect()
        try:
            await connection.start()
        except OSError as exc:  # asyncpg's refused, reset or timed-out connect is no DBAPI error
            raise DatabaseUnavailableError(type(exc).__name__) from exc
        try:
            async with connection.begin():
                yield connection
        finally:
            await connection.close()

    async def ping(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            async with self.transaction() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, OperationalError, DBAPIError, DatabaseUnavailableError):
            return False
        return True

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.dispose()
        if self._async is not None:
            await self._async.dispose()


def insert_or_ignore(connection: Connection, table: Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect (a taken key is skipped, not fatal)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL lets readers proceed while one writer commits; NORMAL sync is durable across process crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # BEGIN IMMEDIATE waits for the lock on the event loop (see _begin_immediate); inside a transaction
    # that holds it nothing else needs to wait.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


async def _begin_immediate(connection: SyncConnection, deadline: float) -> None:
    """Take SQLite's write lock, waiting on the event loop (not in SQLite's busy handler) while another
    worker holds it, so this worker keeps serving its other requests meanwhile.

    The attempts go to the driver: a refused one costs about 2 µs there against about 20 µs through
    SQLAlchemy's error handling, and a worker may be refused many times while another one commits.
    """
    driver: Any = connection.connection.driver_connection
    delay = 0.0002
    while True:
        try:
            driver.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.01)
    # SQLAlchemy's record of the transaction (its BEGIN is a no-op on pysqlite), so that commit() and
    # rollback() reach SQLite.
    connection.begin()


def _is_unreachable(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc.orig, OSError | ConnectionError):
        return True
    # SQLite: another process kept the write lock past the busy timeout, or the file cannot be used.
    return isinstance(exc.orig, sqlite3.OperationalError) and str(exc.orig) in _SQLITE_UNAVAILABLE
