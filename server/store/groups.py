"""Group commit on SQLite: concurrent units of work of one worker share one BEGIN IMMEDIATE … COMMIT.

A commit writes the transaction's pages to the WAL and now and then checkpoints it; shared by a group, it
costs each request a fraction. Each unit runs in its own SAVEPOINT, so a unit that fails (a used nonce, a
refused proof) is rolled back alone and its error goes to its caller; the others commit. No caller gets
its result before the COMMIT that holds its rows has returned: a crash before then loses the whole
group, and nobody was told otherwise.
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
GROUP_LIMIT = 32
"""Units per transaction at most: bounds how long one group holds the write lock."""

_SAVEPOINT = prepared(text("SAVEPOINT unit"))
_RELEASE = prepared(text("RELEASE unit"))
_ROLLBACK_TO = prepared(text("ROLLBACK TO unit"))


class GroupCommit:
    """Queues units; one task runs what has queued up, up to `GROUP_LIMIT` per transaction."""

    def __init__(
        self, transaction: Callable[[], AbstractAsyncContextManager[Connection]], limit: int = GROUP_LIMIT
    ) -> None:
        self._transaction = transaction
        self._limit = limit
        self._queue: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def run(self, unit: Callable[[Connection], Awaitable[T]]) -> T:
        """``unit``'s result once its group has committed, or the error that it or the group raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((unit, future))
        # A runner of another (closed) event loop, as tests that start one per client leave, runs nothing.
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            self._queue = [(u, f) for u, f in self._queue if f.get_loop() is loop]
            self._runner = loop.create_task(self._run_groups())
        return await future

    async def _run_groups(self) -> None:
        while self._queue:
            # Let the requests that are ready join this group before it starts.
            await asyncio.sleep(0)
            group, self._queue = self._queue[: self._limit], self._queue[self._limit :]
            group = [(unit, future) for unit, future in group if not future.done()]
            if group:
                await self._run_group(group)

    async def _run_group(self, group: list[tuple[Unit, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        try:
            async with self._transaction() as connection:
                for unit, future in group:
                    await connection.execute(_SAVEPOINT)
                    try:
                        result = await unit(connection)
                    except Exception as exc:  # handed to the unit's caller
                        await connection.execute(_ROLLBACK_TO)
                        outcomes.append((future, exc, None))
                    else:
                        outcomes.append((future, None, result))
                    await connection.execute(_RELEASE)
        except BaseException as exc:
            # Nothing of this group was committed: every caller gets the error.
            for _, future in group:
                if future.done():
                    continue
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                else:
                    future.cancel()
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
