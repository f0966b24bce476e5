"""Group commit on SQLite: units share a transaction, fail alone, and see their result only after COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import OperationalError

from server.store.database import Connection, Database
from server.store.prepared import prepared

metadata = MetaData()
items = Table("items", metadata, Column("n", Integer, primary_key=True))
_INSERT = prepared(insert(items))
_ALL = select(items.c.n).order_by(items.c.n)


class RefusedError(Exception):
    pass


def inserting(n: int, *, fail: bool = False):  # type: ignore[no-untyped-def]
    async def unit(connection: Connection) -> int:
        await connection.execute(_INSERT, {"n": n})
        if fail:
            raise RefusedError(n)
        return n

    return unit


def grouped(database: Database, unit):  # type: ignore[no-untyped-def]
    """``unit`` in its worker's group, after a read phase that reads nothing."""

    async def read(connection: Connection):  # type: ignore[no-untyped-def]
        return unit

    return database.grouped_after_read(read)


async def stored(database: Database) -> list[int]:
    async with database.transaction() as connection:
        return [int(n) for n in (await connection.execute(_ALL)).scalars()]


def test_a_failing_unit_is_rolled_back_alone(tmp_path: Path) -> None:
    async def scenario() -> None:
        database = Database(f"sqlite:///{tmp_path / 'groups.db'}")
        await database.run_sync(metadata.create_all)
        outcomes = await asyncio.gather(
            *(grouped(database, inserting(n, fail=n % 3 == 0)) for n in range(1, 11)),
            return_exceptions=True,
        )
        assert [o if isinstance(o, int) else "refused" for o in outcomes] == [
            1, 2, "refused", 4, 5, "refused", 7, 8, "refused", 10,
        ]  # fmt: skip
        assert all(isinstance(o, RefusedError) for o in outcomes if not isinstance(o, int))
        assert await stored(database) == [1, 2, 4, 5, 7, 8, 10]
        # A duplicate key inside one unit fails that unit only; the rest of its group commits.
        again = await asyncio.gather(
            *(grouped(database, inserting(n)) for n in (11, 1, 12)), return_exceptions=True
        )
        assert again[0] == 11
        assert again[2] == 12
        assert isinstance(again[1], Exception)
        assert await stored(database) == [1, 2, 4, 5, 7, 8, 10, 11, 12]
        await database.close()

    asyncio.run(scenario())


def test_a_failed_commit_fails_the_whole_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No unit gets its result before COMMIT: when COMMIT fails, every unit gets the error, no row stays."""

    async def scenario() -> None:
        database = Database(f"sqlite:///{tmp_path / 'groups.db'}")
        await database.run_sync(metadata.create_all)

        def failing_commit(self: SyncConnection) -> None:
            raise OperationalError(
                "COMMIT", None, sqlite3.OperationalError("cannot commit - SQL statements in progress")
            )

        with monkeypatch.context() as patch:
            patch.setattr(SyncConnection, "commit", failing_commit)
            outcomes = await asyncio.gather(
                *(grouped(database, inserting(n)) for n in range(5)), return_exceptions=True
            )
        assert all(isinstance(o, OperationalError) for o in outcomes)
        assert await stored(database) == []
        await database.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("count", [1, 40])
def test_every_unit_gets_its_own_result(tmp_path: Path, count: int) -> None:
    async def scenario() -> None:
        database = Database(f"sqlite:///{tmp_path / 'groups.db'}")
        await database.run_sync(metadata.create_all)
        results = await asyncio.gather(*(grouped(database, inserting(n)) for n in range(count)))
        assert results == list(range(count))
        assert await stored(database) == list(range(count))
        await database.close()

    asyncio.run(scenario())


def test_read_phases_run_without_the_write_lock_and_fail_alone(tmp_path: Path) -> None:
    """`grouped_after_read`: the reads run before BEGIN IMMEDIATE (another writer is not locked out
    meanwhile), see the last commit, and a read phase that fails takes only its own caller down."""
    path = tmp_path / "groups.db"
    locked_out: list[str] = []

    def reading(n: int):  # type: ignore[no-untyped-def]
        async def read(connection: Connection):  # type: ignore[no-untyped-def]
            seen = [int(v) for v in (await connection.execute(_ALL)).scalars()]
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:  # another worker's write, while this read phase runs
                other.execute("BEGIN IMMEDIATE")
                other.execute("INSERT INTO items (n) VALUES (?)", (1000 + n,))
                other.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                locked_out.append(str(exc))
            finally:
                other.close()
            if n == 3:
                raise RefusedError(n)
            assert set(range(1000, 1000 + n)) <= set(seen)  # the writes of the reads before it
            return inserting(n)

        return read

    async def scenario() -> None:
        database = Database(f"sqlite:///{path}")
        await database.run_sync(metadata.create_all)
        outcomes = await asyncio.gather(
            *(database.grouped_after_read(reading(n)) for n in range(6)), return_exceptions=True
        )
        assert [o if isinstance(o, int) else "refused" for o in outcomes] == [0, 1, 2, "refused", 4, 5]
        assert locked_out == []
        assert await stored(database) == [0, 1, 2, 4, 5, *range(1000, 1006)]
        await database.close()

    asyncio.run(scenario())
