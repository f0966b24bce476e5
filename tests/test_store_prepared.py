"""Prepared statements on SQLite's cursor store and read exactly what SQLAlchemy's engine would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from server.store.database import Database
from server.store.prepared import Rows, find_prepared, prepared

metadata = MetaData()
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("citizen_id", String(12), nullable=False),
    Column("configuration_ids", JSON, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
nonces = Table(
    "nonces",
    metadata,
    Column("nonce_hash", LargeBinary(32), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)
status_entries = Table(
    "status_entries",
    metadata,
    Column("list_id", Integer, primary_key=True),
    Column("idx", Integer, primary_key=True),
)
NOW = datetime(2025, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
_INSERT_TOKEN = prepared(insert(access_tokens))
_FIND_TOKEN = prepared(
    select(access_tokens.c.citizen_id, access_tokens.c.configuration_ids, access_tokens.c.expires_at).where(
        access_tokens.c.token_hash == bindparam("token_hash")
    )
)
_INSERT_NONCE = prepared(insert(nonces))
_USE_NONCES = prepared(
    update(nonces)
    .where(nonces.c.nonce_hash.in_(bindparam("hashes", expanding=True)), nonces.c.used_at.is_(None))
    .values(used_at=bindparam("now"))
)
_CLAIM = prepared(sqlite.insert(status_entries).on_conflict_do_nothing())


def token_row(token_hash: bytes) -> dict[str, Any]:
    return {
        "token_hash": token_hash,
        "citizen_id": "001099012345",
        "configuration_ids": ["identity", "héalth"],
        "expires_at": NOW + timedelta(minutes=5),
    }


async def scenario(database: Database) -> None:
    await database.run_sync(metadata.create_all)
    async with database.transaction() as connection:
        fast = await connection.execute(_INSERT_TOKEN, token_row(b"f" * 32))
        assert isinstance(fast, Rows)
        await connection.execute(insert(access_tokens), token_row(b"s" * 32))  # through SQLAlchemy
        stored = "SELECT citizen_id, configuration_ids, expires_at FROM access_tokens ORDER BY token_hash"
        via_cursor, via_engine = [tuple(row) for row in await connection.execute(text(stored))]
        assert via_cursor == via_engine  # the same stored text, datetimes and JSON alike
        assert via_cursor[2] == "2025-05-01 08:35:15.123456"
        found = (await connection.execute(_FIND_TOKEN, {"token_hash": b"f" * 32})).first()
        assert found.citizen_id == "001099012345"
        assert found.configuration_ids == ["identity", "héalth"]
        assert found.expires_at == (NOW + timedelta(minutes=5)).replace(tzinfo=None)
        assert (await connection.execute(_FIND_TOKEN, {"token_hash": b"x" * 32})).first() is None

        rows = [{"nonce_hash": bytes([n]) * 32, "expires_at": NOW} for n in range(3)]
        assert (await connection.execute(_INSERT_NONCE, rows)).rowcount == 3
        hashes = [b"\0" * 32, b"\2" * 32, b"z" * 32]
        assert (await connection.execute(_USE_NONCES, {"hashes": hashes, "now": NOW})).rowcount == 2
        assert (await connection.execute(_USE_NONCES, {"hashes": hashes[:1], "now": NOW})).rowcount == 0

        # DATETIME binds share one formatting of the last value: each value still gets its own text.
        later, same_instant = NOW + timedelta(seconds=1), NOW.replace(tzinfo=None)
        for when in (later, NOW, later, same_instant):
            await connection.execute(_INSERT_NONCE, {"nonce_hash": b"t" * 32, "expires_at": when})
            await connection.execute(_USE_NONCES, {"hashes": [b"t" * 32], "now": later})
            stored = "SELECT expires_at, used_at FROM nonces WHERE nonce_hash = :h"
            row = (await connection.execute(text(stored), {"h": b"t" * 32})).first()
            assert tuple(row) == (str(when.replace(tzinfo=None)), str(later.replace(tzinfo=None)))
            await connection.execute(text("DELETE FROM nonces WHERE nonce_hash = :h"), {"h": b"t" * 32})

        entries = [{"list_id": 1, "idx": idx} for idx in (5, 6)]
        assert (await connection.execute(_CLAIM, entries)).rowcount == 2
        entries.append({"list_id": 1, "idx": 7})
        assert (await connection.execute(_CLAIM, entries)).rowcount == 1  # taken ones skipped
        with pytest.raises(IntegrityError):
            await connection.execute(_INSERT_TOKEN, token_row(b"f" * 32))


def test_prepared_statements_match_the_engine(tmp_path: Path) -> None:
    assert find_prepared(_FIND_TOKEN) is not None
    assert find_prepared(select(access_tokens)) is None
    database = Database(f"sqlite:///{tmp_path / 'prepared.db'}")
    try:
        asyncio.run(scenario(database))
    finally:
        asyncio.run(database.close())
