"""Group commit on SQLite: concurrent units of work of one worker share one BEGIN IMMEDIATE … COMMIT.

A commit writes the transaction's pages to the WAL and now and then checkpoints it; shared by a group, it
costs each request a fraction. Each unit runs in its own SAVEPOINT, so a unit that fails (a used nonce, a
refused proof) is rolled back alone and its error goes to its caller; the others commit. No caller gets
its result before the COMMIT that holds its rows has returned: a crash before then loses the whole
group, and nobody was told otherwise.

Each unit comes from a read phase (`run_after_read`): the group's reads run before its BEGIN IMMEDIATE,
on a connection outside any transaction, and each returns the unit to run inside it. What a read phase
does besides reading (signing credentials) then holds no write lock that the other workers wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import text

from server.store.prepared import prepared

if TYPE_CHECKING:
    from server.store.database import Connection

T = TypeVar("T")
Unit = Callable[["Connection"], Awaitable[Any]]
Read = Callable[["Connection"], Awaitable[Unit]]
GROUP_LIMIT = 32
"""Units per transaction at most: bounds how long one group holds the write lock."""

_SAVEPOINT = prepared(text("SAVEPOINT unit"))
_RELEASE = prepared(text("RELEASE unit"))
_ROLLBACK_TO = prepared(text("ROLLBACK TO unit"))


class _Queued:
    """A unit waiting for its group: its read phase, the unit it returned, and its caller's future."""

    __slots__ = ("future", "read", "unit")

    def __init__(self, read: Read, future: asyncio.Future[Any]) -> None:
        self.read = read
        self.unit: Unit | None = None
        self.future = future


class GroupCommit:
    """Queues units; one task runs what has queued up, up to `GROUP_LIMIT` per transaction."""

    def __init__(
        self,
        transaction: Callable[[], AbstractAsyncContextManager[Connection]],
        reading: Callable[[], AbstractAsyncContextManager[Connection]],
        limit: int = GROUP_LIMIT,
    ) -> None:
        self._transaction = transaction
        self._reading = reading
        self._limit = limit
        self._queue: list[_Queued] = []
        self._runner: asyncio.Task[None] | None = None

    async def run_after_read(
        self, read: Callable[[Connection], Awaitable[Callable[[Connection], Awaitable[T]]]]
    ) -> T:
        """The result of the unit that ``read`` returns, once its group has committed, or the error that
        the read, the unit or the group raised. ``read`` runs before the group's transaction begins, on a
        connection outside any transaction; its error goes to the caller alone."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append(_Queued(read, future))
        # A runner of another (closed) event loop, as tests that start one per client leave, runs nothing.
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            self._queue = [q for q in self._queue if q.future.get_loop() is loop]
            self._runner = loop.create_task(self._run_groups())
        return await future

    async def _run_groups(self) -> None:
        while self._queue:
            # Let the requests that are ready join this group before it starts.
            await asyncio.sleep(0)
            group, self._queue = self._queue[: self._limit], self._queue[self._limit :]
            group = [queued for queued in group if not queued.future.done()]
            if group:
                await self._run_reads(group)
                # A unit whose read failed has left the group: its caller has the error.
                group = [queued for queued in group if not queued.future.done()]
            if group:
                await self._run_group(group)

    async def _run_reads(self, group: list[_Queued]) -> None:
        try:
            async with self._reading() as connection:
                for queued in group:
                    try:
                        queued.unit = await queued.read(connection)
                    except Exception as exc:  # handed to the unit's caller
                        if not queued.future.done():
                            queued.future.set_exception(exc)
        except Exception as exc:
            for queued in group:
                if queued.unit is None and not queued.future.done():
                    queued.future.set_exception(exc)

    async def _run_group(self, group: list[_Queued]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        try:
            async with self._transaction() as connection:
                for queued in group:
                    assert queued.unit is not None  # noqa: S101 - a read phase that failed left the group
                    await connection.execute(_SAVEPOINT)
                    try:
                        result = await queued.unit(connection)
                    except Exception as exc:  # handed to the unit's caller
                        await connection.execute(_ROLLBACK_TO)
                        outcomes.append((queued.future, exc, None))
                    else:
                        outcomes.append((queued.future, None, result))
                    await connection.execute(_RELEASE)
        except BaseException as exc:
            # Nothing of this group was committed: every caller gets the error.
            for queued in group:
                if queued.future.done():
                    continue
                if isinstance(exc, Exception):
                    queued.future.set_exception(exc)
                else:
                    queued.future.cancel()
            if not isinstance(exc, Exception):
                raise
            return
        for future, error, result in outcomes:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
